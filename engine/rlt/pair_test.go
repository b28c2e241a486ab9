package rlt

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

const pairsTokenizer = "../tokenizer/testdata/qwen2_pairs.json"

// mustPair is NewPair for tests.
func mustPair(t *testing.T, teacher, student *model.Model, tok TextTokenizer, p record.Prompts) *Pair {
	t.Helper()
	pair, err := NewPair(teacher, student, tok, p)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// The one tokenizer rule: the same tokens under the same ids; the first
// token that differs is named.
func TestSameVocabulary(t *testing.T) {
	data, err := os.ReadFile(pairsTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tokenizer.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := tokenizer.Parse(data)
	renamed, err := tokenizer.Parse(bytes.ReplaceAll(data, []byte("<|im_end|>"), []byte("<|im_stop|>")))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := a.ID(record.ImEnd)
	cases := []struct {
		name string
		b    *tokenizer.Tokenizer
		want string // "" = accepted
	}{
		{"same file", same, ""},
		{"one token renamed", renamed, `token ` + itoa(int(id)) + ` is "<|im_end|>" for the teacher and "<|im_stop|>" for the student`},
	}
	for _, c := range cases {
		err := SameVocabulary(a, c.b)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// vocab is a vocabulary of the tokens it lists, under their indices.
type vocab []string

func (v vocab) VocabSize() int              { return len(v) }
func (v vocab) TokenString(id int32) string { return v[id] }

// SameVocabularyOf names each tokenizer by the role its caller's user
// gave it, in both of its refusals: a folder given as --tokenizer-from
// (rlt distill --reference) is no teacher, and was called one.
func TestSameVocabularyOfNamesTheRolesGiven(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b vocab
		want string
	}{
		{"a token differs", vocab{"a", "b"}, vocab{"a", "c"},
			`different tokenizers: token 1 is "b" for --tokenizer-from and "c" for --student-init; RLT needs one shared tokenizer`},
		{"the second is longer", vocab{"a"}, vocab{"a", "c"},
			`different tokenizers: --tokenizer-from's has 1 tokens, --student-init's 2; the first differing is token 1, "c", only --student-init's; RLT needs one shared tokenizer`},
		{"the first is longer", vocab{"a", "b"}, vocab{"a"},
			`different tokenizers: --tokenizer-from's has 2 tokens, --student-init's 1; the first differing is token 1, "b", only --tokenizer-from's; RLT needs one shared tokenizer`},
	} {
		if err := SameVocabularyOf("--tokenizer-from", c.a, "--student-init", c.b); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// SameVocabulary is the pair's: the teacher's and the student's.
	if err := SameVocabulary(vocab{"a"}, vocab{"a", "c"}); err == nil || !strings.Contains(err.Error(), `the teacher's has 1 tokens, the student's 2; the first differing is token 1, "c", only the student's`) {
		t.Errorf("SameVocabulary: %v", err)
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// cut is m with its embedding table cut to rows rows (the first ones);
// every other weight is m's.
func cut(t *testing.T, m *model.Model, rows int) *model.Model {
	t.Helper()
	cfg := m.Cfg
	cfg.Vocab = rows
	out, err := model.New(m.Backend(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]*compute.Tensor{}
	for _, p := range m.Params() {
		src[p.Name] = p.Tensor
	}
	be := m.Backend()
	for _, p := range out.Params() {
		s, ok := src[p.Name]
		if !ok {
			t.Fatalf("no %s in the model", p.Name)
		}
		all := make([]float32, s.Len())
		be.Read(all, s)
		be.Write(p.Tensor, all[:p.Tensor.Len()])
	}
	return out
}

// A teacher and a student that share a tokenizer but whose embedding
// tables are padded differently (as Qwen2.5-7B's 152,064 rows and 0.5B's
// 151,936) are scored over the tokenizer's rows: exactly as the same two
// models cut to those rows, for every estimator, the full-vocabulary KL
// included. A GRPO step on them runs.
func TestPaddedTablesScoreAndTrain(t *testing.T) {
	tok, err := tokenizer.Load(pairsTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	n := tok.VocabSize()
	base := model.Config{Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 512, Tied: true, QKVBias: true}
	be := compute.NewCPU()
	tc, sc := base, base
	tc.Vocab, sc.Vocab = n+8, n+2
	teacher, err := model.NewRandom(be, tc, 31)
	if err != nil {
		t.Fatal(err)
	}
	teacher.InitRandom(31, 0.3)
	student, err := model.NewRandom(be, sc, 32)
	if err != nil {
		t.Fatal(err)
	}
	student.InitRandom(32, 0.3)
	prompts := record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}
	padded, err := NewPair(teacher, student, tok, prompts)
	if err != nil {
		t.Fatal(err)
	}
	if padded.Shared() != n {
		t.Fatalf("shared rows %d, want the tokenizer's %d", padded.Shared(), n)
	}
	exact, err := NewPair(cut(t, teacher, n), cut(t, student, n), tok, prompts)
	if err != nil {
		t.Fatal(err)
	}
	for _, est := range []record.Estimator{record.LogRatio, record.K3, record.FullKL} {
		rc := record.DefaultRewardConfig()
		rc.Estimator = est
		sp, err := NewScorer(padded, rc)
		if err != nil {
			t.Fatal(err)
		}
		se, _ := NewScorer(exact, rc)
		got, err := sp.Score(context.Background(), scoreItems)
		if err != nil {
			t.Fatalf("%s: padded tables: %v", est, err)
		}
		want, err := se.Score(context.Background(), scoreItems)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if len(got[i].D) != len(want[i].D) {
				t.Fatalf("%s item %d: %d vs %d explanation tokens", est, i, len(got[i].D), len(want[i].D))
			}
			for k := range got[i].D {
				if math.Abs(float64(got[i].D[k]-want[i].D[k])) > 1e-4 || math.Abs(float64(got[i].TeacherLP[k]-want[i].TeacherLP[k])) > 1e-4 {
					t.Errorf("%s item %d token %d: d %v, ℓT %v; over the shared rows d %v, ℓT %v", est, i, k, got[i].D[k], got[i].TeacherLP[k], want[i].D[k], want[i].TeacherLP[k])
				}
			}
			if math.Abs(got[i].Reward-want[i].Reward) > 1e-4 || math.IsNaN(got[i].Reward) {
				t.Errorf("%s item %d: reward %v, over the shared rows %v", est, i, got[i].Reward, want[i].Reward)
			}
		}
	}

	// One GRPO step on the padded pair (full-vocabulary KL reward).
	gc := runconfig.DefaultGRPO()
	gc.Questions, gc.Samples, gc.MaxNewTokens, gc.LR, gc.MicroBatch = 2, 2, 10, 1e-2, 4
	rc := record.DefaultRewardConfig()
	rc.Estimator = record.FullKL
	tr, err := NewTrainer(gc, rc, padded, sums{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Step(context.Background())
	if err != nil {
		t.Fatalf("GRPO step on differently padded tables: %v", err)
	}
	for _, k := range []string{"reward", "loss", "kl", "grad_norm"} {
		if v, ok := res.Metrics[k]; !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("metric %s = %v (present %v)", k, v, ok)
		}
	}
	if len(res.Traces) != 4 {
		t.Errorf("%d traces, want 4", len(res.Traces))
	}
}

// The RLT prompts are ChatML: a model folder whose tokenizer_config.json
// names another chat template is refused by CheckChatML, naming the folder
// and the file, giving the tokenizer package's reason and saying
// what to do; a folder with no tokenizer_config.json, or one without a
// chat_template (our own folders), is taken. (Every command checks its
// folders before it loads them: chatml_test.go of package main.)
func TestCheckChatML(t *testing.T) {
	const llama3 = `{"bos_token": "<|begin_of_text|>", "chat_template": "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"}`
	chatml := `{"chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"}`
	for _, c := range []struct {
		name   string
		config string // tokenizer_config.json; "-" for none
		want   string // "" = taken
	}{
		{"no tokenizer_config.json", "-", ""},
		{"no chat_template", `{"model_max_length": 32768}`, ""},
		{"a null chat_template", `{"chat_template": null}`, ""},
		{"a ChatML template", chatml, ""},
		{"a named ChatML template", `{"chat_template": [{"name": "default", "template": "{{'<|im_start|>'}}"}]}`, ""},
		{"a Llama-3 template", llama3, "chat_template: the chat template is not ChatML (it never writes <|im_start|>); the RLT prompts are ChatML"},
		{"a named template that is not ChatML", `{"chat_template": [{"name": "default", "template": "[INST]"}, {"name": "tool_use", "template": "<|im_start|>"}]}`,
			"chat_template: the chat template is not ChatML"},
		// A file that is no JSON object says which (not valid JSON, at its
		// place, or valid JSON of another kind) and what to do, not as a
		// template that is not ChatML: both were "is not a JSON object"
		// with encoding/json's words.
		{"not JSON", `{"chat_template": `, ": not valid JSON: it ends at line 1, column 18 before the JSON is complete"},
		{"not JSON mid-file", "{\n  \"chat_template\": \"x\",\n}\n",
			": not valid JSON: line 3, column 1: invalid character '}' looking for beginning of object key string, so its chat template cannot be checked to be ChatML, the format of the RLT prompts: fix the file, or remove it"},
		{"a JSON array", `[{"chat_template": "<|im_start|>"}]`,
			": holds a JSON array, not the object of the tokenizer's settings (chat_template, added_tokens_decoder, …) it should be, so its chat template cannot be checked to be ChatML, the format of the RLT prompts: fix the file, or remove it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "tokenizer_config.json")
			if c.config != "-" {
				if err := os.WriteFile(file, []byte(c.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckChatML("teacher", dir)
			if c.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "teacher "+dir+": "+file) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v\nwant it to begin with the folder and the file, and to say %q", err, c.want)
			}
			// A pair is refused for it as the student as much as the
			// teacher, and one folder given as both is said once.
			other := t.TempDir()
			for _, dirs := range []struct{ who, teacher, student string }{
				{"teacher", dir, other}, {"student", other, dir}, {"teacher and student", dir, dir},
			} {
				err := CheckChatMLPair(dirs.teacher, dirs.student)
				if err == nil || !strings.HasPrefix(err.Error(), dirs.who+" "+dir+": "+file) {
					t.Errorf("CheckChatMLPair with it as the %s: %v", dirs.who, err)
				}
			}
		})
	}
}

// A chat_template.jinja, where transformers (4.47 on) saves a chat template
// and which it reads before tokenizer_config.json's chat_template, is the
// folder's template whatever tokenizer_config.json says or lacks: it was
// not read, and a folder with Llama 3's template there was taken for
// ChatML's. Its refusal names it, and says to remove it.
func TestCheckChatMLReadsChatTemplateJinja(t *testing.T) {
	const llama3 = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"
	const chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
	configOf := func(template string) string {
		b, _ := json.Marshal(map[string]string{"chat_template": template})
		return string(b)
	}
	for _, c := range []struct {
		name, jinja, config string // config "-": no tokenizer_config.json
		refused             bool
	}{
		{"Llama 3's, alone", llama3, "-", true},
		{"Llama 3's, beside a config without a template", llama3, `{"eos_token": "<|eot_id|>"}`, true},
		{"Llama 3's, beside a ChatML config", llama3, configOf(chatml), true},
		{"ChatML's, beside a Llama 3 config", chatml, configOf(llama3), false},
		{"ChatML's, alone", chatml, "-", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			jinja := filepath.Join(dir, "chat_template.jinja")
			if err := os.WriteFile(jinja, []byte(c.jinja), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.config != "-" {
				if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(c.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckChatML("teacher", dir)
			want := "teacher " + dir + ": " + jinja + ": the chat template is not ChatML (it never writes <|im_start|>); the RLT prompts are ChatML (<|im_start|>role … <|im_end|>), " +
				"so this model would be given a format it was not trained on: give a ChatML model (Qwen2, Qwen2.5), or, if this one does take ChatML, remove " + jinja +
				" (transformers reads it before tokenizer_config.json's chat_template)"
			switch {
			case c.refused && (err == nil || err.Error() != want):
				t.Errorf("%v\nwant %q", err, want)
			case !c.refused && err != nil:
				t.Errorf("refused: %v", err)
			}
		})
	}
}

// A tokenizer with more tokens than a model's vocab_size is refused before
// the weights load, naming the folder and its config.json's key (NewPair's
// check names neither).
func TestLoadPairRefusesATokenizerPastTheEmbedding(t *testing.T) {
	src := filepath.Join("..", "defaults", "models", "teacher")
	small := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "config.json" {
			b = []byte(strings.Replace(string(b), `"vocab_size": 272`, `"vocab_size": 260`, 1))
			if !strings.Contains(string(b), `"vocab_size": 260`) {
				t.Fatalf("no vocab_size 272 to change in %s", b)
			}
		}
		if err := os.WriteFile(filepath.Join(small, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadPair(compute.NewCPU(), src, small, record.Prompts{})
	want := "student " + small + ": its tokenizer.json has 265 tokens, but " + filepath.Join(small, "config.json") + "'s vocab_size is 260"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%v\nwant it to begin %q", err, want)
	}
}

// A teacher or student folder with no tokenizer.json to read is said for
// what it is, as the commands say a model folder: one that is not there, a
// run folder, a folder without one. A folder that was not there read as
// the system's "open DIR/tokenizer.json: no such file or directory", and a
// run folder as one that holds no tokenizer.json.
func TestLoadPairSaysAFolderWithoutATokenizer(t *testing.T) {
	src := filepath.Join("..", "defaults", "models", "teacher")
	gone := filepath.Join(t.TempDir(), "gone")
	run := t.TempDir()
	if err := os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, c := range []struct {
		name             string
		teacher, student string
		want             string
	}{
		{"a teacher not there", gone, src, "teacher: model folder " + gone + " does not exist"},
		{"a student not there", src, gone, "student: model folder " + gone + " does not exist"},
		{"a run folder", run, src, "teacher: " + run + " is a run folder, not a model folder"},
		{"an empty folder", src, empty, "student: " + empty + " holds no tokenizer.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadPair(compute.NewCPU(), c.teacher, c.student, record.Prompts{})
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%v\nwant it to begin %q", err, c.want)
			}
		})
	}
}

// CheckPair is LoadPair's check, said in its words, before any weights
// load: a command that checks the folders before it opens a device (rlt
// eval, rlt score) refuses what the load would, as the load would say
// it. The pair loaded from what it checked takes the tokenizer it read,
// not one read again (Qwen's tokenizer.json is 11 MB).
func TestCheckPairIsTheLoadsCheck(t *testing.T) {
	src := filepath.Join("..", "defaults", "models", "teacher")
	copyFolder := func(edit func(name string, b []byte) []byte) string {
		dir := t.TempDir()
		for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), edit(f, b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	other := copyFolder(func(name string, b []byte) []byte {
		if name == "tokenizer.json" {
			return bytes.ReplaceAll(b, []byte("<|im_end|>"), []byte("<|im_stop|>"))
		}
		return b
	})
	notJSON := copyFolder(func(name string, b []byte) []byte {
		if name == "tokenizer.json" {
			return []byte("not JSON")
		}
		return b
	})
	noConfig := copyFolder(func(_ string, b []byte) []byte { return b })
	os.Remove(filepath.Join(noConfig, "config.json"))
	for _, c := range []struct {
		name             string
		teacher, student string
		want             []string // in the refusal, in order
	}{
		{"different tokenizers", src, other, []string{"teacher " + src + " and student " + other + ": different tokenizers: token ",
			` is "<|im_end|>" for the teacher and "<|im_stop|>" for the student; RLT needs one shared tokenizer: give a student whose tokenizer.json is the teacher's`}},
		{"a tokenizer that is not JSON", notJSON, src, []string{"teacher: tokenizer: " + filepath.Join(notJSON, "tokenizer.json") + ": "}},
		{"no config.json", src, noConfig, []string{"student: model " + noConfig + ": "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, checked := CheckPair(c.teacher, c.student)
			_, loaded := LoadPair(compute.NewCPU(), c.teacher, c.student, record.Prompts{})
			if checked == nil || loaded == nil || checked.Error() != loaded.Error() {
				t.Fatalf("CheckPair: %v\nLoadPair: %v\nwant both refused, in one wording", checked, loaded)
			}
			rest := checked.Error()
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("%v\nwant %q in it (in order: %q)", checked, w, c.want)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	folders, err := CheckPair(src, src)
	if err != nil {
		t.Fatal(err)
	}
	if folders.Positions() != (Positions{Teacher: folders.Teacher.MaxPos, Student: folders.Student.MaxPos}) || folders.Teacher.MaxPos == 0 {
		t.Errorf("positions %+v from configs %+v, %+v", folders.Positions(), folders.Teacher, folders.Student)
	}
	pair, err := folders.Load(context.Background(), compute.NewCPU(), record.Prompts{}, model.Float32, model.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if tok, ok := pair.Tok.(*tokenizer.Tokenizer); !ok || tok != folders.Tok {
		t.Errorf("the pair's tokenizer is not the one CheckPair read")
	}
}
