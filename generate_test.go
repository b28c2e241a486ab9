package main

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/sample"
)

// The text of a finished sequence is vLLM's: the stop token and stop
// string left out (or kept up to the stop with include), special tokens
// skipped unless asked for, text after a stop string dropped either way.
func TestGenerateFinishedText(t *testing.T) {
	tok, err := loadTokenizer(tokenizerFixture)
	if err != nil {
		t.Fatal(err)
	}
	imEnd, _ := tok.ID("<|im_end|>")
	imStart, _ := tok.ID("<|im_start|>")
	// One-byte tokens, in GPT-2's byte-level alphabet: E4 B8 AD is 中.
	byteTok := func(r string) int32 {
		id, ok := tok.ID(r)
		if !ok {
			t.Fatalf("no token %q", r)
		}
		return id
	}
	e4, b8, ad, ff := byteTok("ä"), byteTok("¸"), byteTok("Ń"), byteTok("ÿ")
	enc := func(s string) []int32 { return tok.Encode(s) }
	cat := func(parts ...[]int32) []int32 {
		var ids []int32
		for _, p := range parts {
			ids = append(ids, p...)
		}
		return ids
	}
	for _, c := range []struct {
		name          string
		r             sample.Result
		stops         []string
		include, skip bool
		want          string
	}{
		{"stop token left out", sample.Result{IDs: cat(enc("ab"), []int32{imEnd}), Reason: sample.StopID}, nil, false, true, "ab"},
		{"stop token left out when specials are printed", sample.Result{IDs: cat(enc("ab"), []int32{imEnd}), Reason: sample.StopID}, nil, false, false, "ab"},
		{"stop token kept but skipped as special", sample.Result{IDs: cat(enc("ab"), []int32{imEnd}), Reason: sample.StopID}, nil, true, true, "ab"},
		{"stop token kept and printed", sample.Result{IDs: cat(enc("ab"), []int32{imEnd}), Reason: sample.StopID}, nil, true, false, "ab<|im_end|>"},
		{"special token inside skipped", sample.Result{IDs: cat(enc("a"), []int32{imStart}, enc("b")), Reason: sample.MaxTokens}, nil, false, true, "ab"},
		{"special token inside printed", sample.Result{IDs: cat(enc("a"), []int32{imStart}, enc("b")), Reason: sample.MaxTokens}, nil, false, false, "a<|im_start|>b"},
		{"stop string cut where it begins", sample.Result{IDs: enc("x=?1y"), Reason: sample.StopString, Stop: 1}, []string{"zz", "?1"}, false, true, "x="},
		{"stop string kept, what follows dropped", sample.Result{IDs: enc("x=?1y"), Reason: sample.StopString, Stop: 1}, []string{"zz", "?1"}, true, true, "x=?1"},
		{"stop string at the start", sample.Result{IDs: enc("?1"), Reason: sample.StopString, Stop: 0}, []string{"?1"}, false, true, ""},
		{"out of tokens keeps all", sample.Result{IDs: enc("x?1"), Reason: sample.MaxTokens}, []string{"zz"}, false, true, "x?1"},
		// As tokenizers' DecodeStream returns text (the wants printed by
		// Python: engine/tokenizer's TestDecodeHFStream).
		{"a character cut at the end left out", sample.Result{IDs: cat(enc("a"), []int32{e4, b8}), Reason: sample.MaxTokens}, nil, false, true, "a"},
		{"a cut character completed", sample.Result{IDs: cat(enc("a"), []int32{e4, b8, ad}), Reason: sample.MaxTokens}, nil, false, true, "a中"},
		{"an invalid byte inside is one U+FFFD", sample.Result{IDs: cat(enc("a"), []int32{ff}, enc("b")), Reason: sample.MaxTokens}, nil, false, true, "a\ufffdb"},
		{"an invalid byte at the end left out", sample.Result{IDs: cat(enc("a"), []int32{ff, imEnd}), Reason: sample.StopID}, nil, false, true, "a"},
	} {
		o := outputText{tok: tok, skipSpecial: c.skip}
		if got := o.finished(c.r, c.stops, c.include); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// rlt generate prints what vLLM would return, greedy with the embedded
// teacher, whose explanation ends with <|end_of_explanation|><|im_end|>:
// each flag's text is derived from the text with everything printed.
func TestGenerateStopsAsVLLM(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	gen := func(flags ...string) string {
		t.Helper()
		args := append([]string{"generate", "--model", teacher, "--prompt", "347+285=?", "--chat", "--temperature", "0", "--device", "cpu"}, flags...)
		code, out, errs := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", flags, code, errs)
		}
		return strings.TrimSuffix(out, "\n")
	}
	all := gen("--include-stop-str-in-output", "--skip-special-tokens=false")
	body, ok := strings.CutSuffix(all, "<|end_of_explanation|><|im_end|>")
	if !ok || strings.Contains(body, "<|") {
		t.Fatalf("the teacher's greedy explanation %q does not end as expected", all)
	}
	if got := gen(); got != body {
		t.Errorf("default: %q, want %q", got, body)
	}
	if got := gen("--skip-special-tokens=false"); got != body+"<|end_of_explanation|>" {
		t.Errorf("specials printed: %q, want the stop token left out of %q", got, all)
	}
	if got := gen("--include-stop-str-in-output"); got != body {
		t.Errorf("stop kept, specials skipped: %q, want %q", got, body)
	}
	// A stop string: the text ends where it begins, or where it ends. "; "
	// parts the columns of every explanation in the addition format, so
	// it does not hang on the digits this teacher writes.
	stop := "; "
	i := strings.Index(body, stop)
	if i < 0 {
		t.Fatalf("%q holds no %q", body, stop)
	}
	if got := gen("--stop", stop, "--stop", "no such text"); got != body[:i] {
		t.Errorf("--stop %q: %q, want %q", stop, got, body[:i])
	}
	if got := gen("--stop", stop, "--include-stop-str-in-output"); got != body[:i+len(stop)] {
		t.Errorf("--stop %q kept: %q, want %q", stop, got, body[:i+len(stop)])
	}
}

// stderr's last line says what stopped the text in the user's terms: the
// stop token by its text, the --stop string that matched, --max-new-tokens,
// or the model's positions. It said "stop id", "max tokens" or "max
// length", the sampler's names.
func TestGenerateSaysWhatStoppedIt(t *testing.T) {
	models := filepath.Join("engine", "defaults", "models")
	teacher, student := filepath.Join(models, defaults.Teacher), filepath.Join(models, defaults.Student)
	chat := []string{"--prompt", "347+285=?", "--chat"}
	for _, c := range []struct {
		name string
		args []string
		want string // the end of stderr's last line
	}{
		{"the stop token", append([]string{"--model", teacher}, chat...), " tokens, stopped by the stop token <|im_end|>]"},
		{"a stop string", append([]string{"--model", teacher, "--stop", "no such text", "--stop", "; "}, chat...), ` tokens, stopped by the stop string "; "]`},
		{"--max-new-tokens", append([]string{"--model", teacher, "--max-new-tokens", "3"}, chat...), "[3 tokens, stopped by --max-new-tokens 3]"},
		{"the model's positions", []string{"--model", student, "--prompt", "1", "--max-new-tokens", "1000"}, "[255 tokens, stopped by the model's 256 positions (max_position_embeddings)]"},
		// int's largest as any bound past the positions: it failed with
		// "kv cache: batch 1 and length -9223372036854775805 must be
		// positive" (the prompt and the bound wrapped negative).
		{"int's largest", []string{"--model", student, "--prompt", "1", "--max-new-tokens", strconv.Itoa(math.MaxInt)}, "[255 tokens, stopped by the model's 256 positions (max_position_embeddings)]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", append([]string{"generate", "--temperature", "0", "--device", "cpu"}, c.args...)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != 0 || !strings.HasSuffix(last, c.want) {
				t.Errorf("exit %d, last line %q; want it to end %q", code, last, c.want)
			}
		})
	}
}

// TestGeneratePromptPastThePositions: a prompt that leaves the model no
// position for a new token (vLLM's max_model_len counts the prompt) is
// refused before any device opens, with the most it can be, or, rendered
// as a --chat turn, how much shorter it must be; the sampler said it once
// the model had loaded ("computing on …", then "sample: a prompt of 400
// tokens is longer than …"), in the words of every refusal past a
// model's positions (model.PositionsError: the model, by how much); it
// said it its own way ("--prompt is 400 tokens, which leaves no room …
// in the 256 positions of DIR"). A prompt of 255 tokens in 256 positions
// still writes its one token.
func TestGeneratePromptPastThePositions(t *testing.T) {
	student := filepath.Join("engine", "defaults", "models", defaults.Student)
	for _, c := range []struct {
		name string
		args []string
		want string // stderr's last line; "" for a run
	}{
		{"400 tokens", []string{"--prompt", strings.Repeat("1", 400)}, "rlt generate: the model " + student + ": --prompt takes 400 tokens, 145 more than fit in its 256 positions (max_position_embeddings) beside a new token: give a prompt of at most 255 tokens"},
		{"256 tokens", []string{"--prompt", strings.Repeat("1", 256)}, "rlt generate: the model " + student + ": --prompt takes 256 tokens, which leaves no room for a new token in its 256 positions (max_position_embeddings): give a prompt of at most 255 tokens"},
		{"a chat turn", []string{"--prompt", strings.Repeat("1", 250), "--chat"}, "rlt generate: the model " + student + ": --prompt rendered as a --chat turn takes 269 tokens, 14 more than fit in its 256 positions (max_position_embeddings) beside a new token: shorten --prompt (or --system) by at least 14 tokens"},
		{"255 tokens", []string{"--prompt", strings.Repeat("1", 255)}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", append([]string{"generate", "--model", student, "--temperature", "0", "--device", "cpu"}, c.args...)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1]
			switch {
			case c.want == "" && (code != 0 || last != "[1 token, stopped by the model's 256 positions (max_position_embeddings)]"):
				t.Errorf("exit %d, stderr %q; want one token written", code, errs)
			case c.want != "" && (code != 1 || last != c.want || strings.Contains(errs, "computing on")):
				t.Errorf("exit %d, stderr %q; want exit 1 and %q before any device", code, errs, c.want)
			}
		})
	}
}

// TestGenerateLogitsNotFinite: a model whose weights, each finite, are so
// large that its logits overflow float32 (a final norm of 3e38, as a
// diverged run may leave; a NaN weight is refused at load) is said to be
// so, with what to do, on the CPU and on a GPU; it said "sample: sequence
// 0 step 0: logits are not finite", neither why nor the way on.
func TestGenerateLogitsNotFinite(t *testing.T) {
	dir := copyFolder(t, filepath.Join("engine", "defaults", "models", defaults.Student))
	weights := filepath.Join(dir, hf.WeightsFile)
	f, err := hf.Open(weights)
	if err != nil {
		t.Fatal(err)
	}
	var tensors []hf.NamedTensor
	for _, ti := range f.Tensors() {
		data := make([]float32, ti.NumElements())
		if err := f.ReadFloat32(ti.Name, data); err != nil {
			t.Fatal(err)
		}
		if ti.Name == "model.norm.weight" {
			for i := range data {
				data[i] = 3e38
			}
		}
		tensors = append(tensors, hf.NamedTensor{Name: ti.Name, Shape: ti.Shape, Data: data})
	}
	f.Close()
	if err := hf.WriteSafetensors(weights, tensors, hf.F32, nil); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"cpu", "gpu"} {
		t.Run(dev, func(t *testing.T) {
			if dev == "gpu" {
				gpuOrSkip(t)
			}
			code, _, errs := runCLI(t, "", "generate", "--model", dir, "--prompt", "3+4=", "--temperature", "0", "--device", dev)
			want := "rlt generate: sample: sequence 0, new token 0: the model's logits are not finite (NaN or ±Inf), so no token can be drawn: " +
				"its weights are so large that its sums overflow float32, as a diverged run's may be; sample from another checkpoint of the model"
			if lines := strings.Split(strings.TrimSpace(errs), "\n"); code != 1 || lines[len(lines)-1] != want {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
			}
		})
	}
}
