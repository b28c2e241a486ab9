package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRenderChatML(t *testing.T) {
	msgs := []Message{{"system", "You are a teacher."}, {"user", "What is 2+2?"}}
	want := "<|im_start|>system\nYou are a teacher.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
	if got := RenderChatML(msgs, false); got != want {
		t.Errorf("RenderChatML = %q", got)
	}
	if got := RenderChatML(msgs, true); got != want+"<|im_start|>assistant\n" {
		t.Errorf("with generation prompt = %q", got)
	}
	done := append(slices.Clone(msgs), Message{"assistant", "4"})
	if got := RenderChatML(done, false); got != want+"<|im_start|>assistant\n4<|im_end|>\n" {
		t.Errorf("full conversation = %q", got)
	}
	prefill := "<|begin_of_solution|>4<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n"
	got := RenderChatMLPrefill(msgs, prefill)
	if got != want+"<|im_start|>assistant\n"+prefill {
		t.Errorf("prefill = %q", got)
	}
	if RenderChatML(nil, false) != "" {
		t.Error("no messages should render nothing")
	}

	// The rendered prompt tokenizes with the ChatML markers as single tokens.
	tok := loadFixture(t, "qwen2_strings")
	ids := tok.Encode(got)
	start, _ := tok.ID(ImStart)
	end, _ := tok.ID(ImEnd)
	var nStart, nEnd int
	for _, id := range ids {
		switch id {
		case start:
			nStart++
		case end:
			nEnd++
		}
	}
	if nStart != 3 || nEnd != 2 || tok.Decode(ids) != got {
		t.Errorf("ChatML prompt: %d im_start, %d im_end, round trip %v", nStart, nEnd, tok.Decode(ids) == got)
	}
}

func TestDetectTemplate(t *testing.T) {
	const qwen = `{%- for message in messages %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}`
	const llama = `{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] + '<|eot_id|>' }}{% endfor %}`
	write := func(t *testing.T, config string, tokenizerJSON string) string {
		dir := t.TempDir()
		p := filepath.Join(dir, "tokenizer_config.json")
		if err := os.WriteFile(p, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		if tokenizerJSON != "" {
			data, err := os.ReadFile(filepath.Join("testdata", tokenizerJSON))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	ok := []struct{ name, config, tokJSON string }{
		{"qwen template", `{"chat_template": ` + quote(qwen) + `}`, ""},
		{"named templates", `{"chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": ` + quote(qwen) + `}]}`, ""},
		{"no template, added token", `{"added_tokens_decoder": {"151644": {"content": "<|im_start|>", "special": true}}}`, ""},
		{"no template, special list", `{"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]}`, ""},
		{"no template, tokenizer.json", `{}`, "qwen2_pairs.json"},
	}
	// TemplateOf, given the file's contents, is DetectTemplate of the file:
	// the tokenizer.json beside it read as much.
	detect := map[string]func(p string) (Template, error){
		"DetectTemplate": DetectTemplate,
		"TemplateOf": func(p string) (Template, error) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			return TemplateOf(p, data)
		},
	}
	for _, c := range ok {
		for fn, detect := range detect {
			got, err := detect(write(t, c.config, c.tokJSON))
			if err != nil || got != ChatML {
				t.Errorf("%s: %s = %q, %v", c.name, fn, got, err)
			}
		}
	}
	bad := []struct{ name, config, tokJSON, want string }{
		{"llama template", `{"chat_template": ` + quote(llama) + `}`, "", "not ChatML"},
		{"no template, no token", `{"eos_token": "</s>"}`, "gpt2.json", "cannot assume ChatML"},
		{"bad JSON", `{"chat_template": `, "", "not valid JSON: it ends at line 1, column 18 before the JSON is complete"},
		// A file that is no JSON object says which it is (not valid JSON,
		// at its place, or valid JSON of another kind) and what to do,
		// apart from a template that is not ChatML (ParseConfig).
		{"bad JSON mid-file", "{\n  \"chat_template\": \"x\",\n}\n", "",
			"not valid JSON: line 3, column 1: invalid character '}' looking for beginning of object key string: fix the file, or remove it"},
		{"an array", `[{"chat_template": "<|im_start|>"}]`, "",
			"holds a JSON array, not the object of the tokenizer's settings (chat_template, added_tokens_decoder, …) it should be: fix the file, or remove it"},
		{"null", `null`, "", "holds a JSON null, not the object of the tokenizer's settings"},
		// transformers reads an AddedToken's "content" exactly: another
		// case is not the token, whatever else the file names.
		{"an added token's Content", `{"added_tokens_decoder": {"151644": {"Content": "<|im_start|>", "special": true}}}`, "",
			`added_tokens_decoder["151644"]: "Content" is not a field: the field is "content" (field names are case-sensitive): write it "content"`},
		{"a special token's CONTENT beside the token", `{"additional_special_tokens": ["<|im_start|>"], "eos_token": {"CONTENT": "<|im_end|>"}}`, "",
			`eos_token: "CONTENT" is not a field: the field is "content"`},
	}
	for _, c := range bad {
		for fn, detect := range detect {
			p := write(t, c.config, c.tokJSON)
			_, err := detect(p)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("%s: %s error %v, want one mentioning %q and the file", c.name, fn, err, c.want)
				continue
			}
			if c.name == "llama template" && !strings.Contains(err.Error(), "only ChatML is supported") {
				t.Errorf("%s error %v should say only ChatML is supported", fn, err)
			}
		}
	}
	if _, err := DetectTemplate(filepath.Join(t.TempDir(), "nope.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// A chat_template.jinja beside tokenizer_config.json is the template, as
// transformers (4.47 on) reads it first: DetectTemplate (rlt generate
// --chat) and TemplateOf (rlt model info) took the config's, or ChatML's
// where the config had none, and a Llama 3 template there passed as
// ChatML. TemplateFileOf says a folder without one.
func TestTemplateFileComesFirst(t *testing.T) {
	const qwen = `{%- for message in messages %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- endfor %}`
	const llama = `{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] + '<|eot_id|>' }}{% endfor %}`
	for _, c := range []struct {
		name, jinja, config string
		chatML              bool
	}{
		{"Llama 3's beside a config without a template", llama, `{"additional_special_tokens": ["<|im_start|>"]}`, false},
		{"Llama 3's beside a ChatML config", llama, `{"chat_template": ` + quote(qwen) + `}`, false},
		{"ChatML's beside a Llama 3 config", qwen, `{"chat_template": ` + quote(llama) + `}`, true},
	} {
		dir := t.TempDir()
		jinja, cfg := filepath.Join(dir, "chat_template.jinja"), filepath.Join(dir, "tokenizer_config.json")
		if err := os.WriteFile(jinja, []byte(c.jinja), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(c.config), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := DetectTemplate(cfg)
		switch {
		case c.chatML && (err != nil || got != ChatML):
			t.Errorf("%s: DetectTemplate = %q, %v; want ChatML", c.name, got, err)
		case !c.chatML && (err == nil || err.Error() != "tokenizer: "+jinja+": the chat template is not ChatML (it never writes <|im_start|>); only ChatML is supported"):
			t.Errorf("%s: DetectTemplate = %q, %v; want the refusal of %s", c.name, got, err, jinja)
		}
	}
	if found, err := TemplateFileOf(t.TempDir()); found || err != nil {
		t.Errorf("a folder without chat_template.jinja: TemplateFileOf = %v, %v", found, err)
	}
}
