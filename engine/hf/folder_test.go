package hf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/shell"
)

func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFolderCheck(t *testing.T) {
	for _, c := range []struct {
		name    string
		files   []string
		needTok bool
		want    []string // substrings; none means Check passes
		notWant string
	}{
		{"empty", nil, true, []string{"missing config.json, model.safetensors (or model.safetensors.index.json with its shards), tokenizer.json", "found nothing relevant", "huggingface-cli download"}, ""},
		{"complete single", []string{"config.json", "model.safetensors", "tokenizer.json"}, true, nil, ""},
		{"complete sharded", []string{"config.json", "model.safetensors.index.json", "tokenizer.json", "generation_config.json"}, true, nil, ""},
		{"no tokenizer needed", []string{"config.json", "model.safetensors"}, false, nil, ""},
		// A checkpoint saved by model.save_pretrained alone: its base
		// model's tokenizer, not a whole model fetched from the Hub.
		{"no tokenizer", []string{"config.json", "model.safetensors", "tokenizer_config.json"}, true, []string{"missing tokenizer.json; found config.json, model.safetensors, tokenizer_config.json: " +
			"a checkpoint saved by model.save_pretrained alone holds no tokenizer: save its base model's beside it (AutoTokenizer.from_pretrained(BASE).save_pretrained(", ")), or copy the base model folder's tokenizer.json, tokenizer_config.json and chat_template.jinja (where it has one: the chat template of recent transformers versions) into it"}, "huggingface-cli download"},
		{"the slow tokenizer's files", []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"}, true, []string{"missing tokenizer.json; found config.json, model.safetensors: " +
			"its vocab.json and merges.txt (the slow tokenizer's files) are not read: a tokenizer.json is needed; transformers writes it: AutoTokenizer.from_pretrained("}, "save_pretrained alone"},
		{"pickle weights", []string{"config.json", "pytorch_model.bin", "tokenizer.json"}, true, []string{"missing model.safetensors", "PyTorch pickle weights (pytorch_model.bin)", "safe_serialization=True"}, "missing config.json"},
		{"shards without index", []string{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}, false, []string{"other safetensors files (model-00001-of-00002.safetensors, model-00002-of-00002.safetensors)", "the index is missing"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			touch(t, dir, c.files...)
			ff, err := ScanFolder(dir)
			if err != nil {
				t.Fatal(err)
			}
			err = ff.Check(c.needTok)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check passed")
			}
			msg := err.Error()
			for _, w := range append(c.want, "model folder "+dir+" is incomplete") {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nwant it to contain %q", msg, w)
				}
			}
			if c.notWant != "" && strings.Contains(msg, c.notWant) {
				t.Errorf("error %q should not contain %q", msg, c.notWant)
			}
		})
	}
	if _, err := ScanFolder(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("ScanFolder of a missing dir succeeded")
	}
	if _, err := OpenFolder(t.TempDir()); err == nil || !strings.Contains(err.Error(), "missing config.json, model.safetensors") {
		t.Errorf("OpenFolder of an empty dir: %v", err)
	}
}

func tinyConfig() Config {
	return Config{ModelType: "qwen2", VocabSize: 16, HiddenSize: 8, IntermediateSize: 12, NumHiddenLayers: 2,
		NumAttentionHeads: 2, NumKeyValueHeads: 1, MaxPositionEmbeddings: 64, RMSNormEps: 1e-6, RopeTheta: 1e4,
		QKVBias: true, HiddenAct: "silu"}
}

func tinyTensors(c Config) []NamedTensor {
	var ts []NamedTensor
	for i, s := range Qwen2Tensors(c) {
		n, _ := numElements(s.Shape, math.MaxInt64)
		d := make([]float32, n)
		for j := range d {
			d[j] = float32(i) + float32(j)/1024
		}
		ts = append(ts, NamedTensor{s.Name, s.Shape, d})
	}
	return ts
}

func TestShardedFolder(t *testing.T) {
	c := tinyConfig()
	ts := tinyTensors(c)
	dir := t.TempDir()
	names, err := WriteSafetensorsSharded(dir, ts, BF16, nil, 600)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 3 || names[len(names)-1] != IndexFile || names[0] != fmt.Sprintf("model-00001-of-%05d.safetensors", len(names)-1) {
		t.Fatalf("files %v", names)
	}
	if err := c.Write(filepath.Join(dir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	fo, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	if err := fo.CheckQwen2(c); err != nil {
		t.Fatal(err)
	}
	if len(fo.Tensors()) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(fo.Tensors()), len(ts))
	}
	for _, nt := range ts {
		got := readF32(t, fo, nt.Name)
		for i := range got {
			if got[i] != BF16ToFloat32(Float32ToBF16(nt.Data[i])) {
				t.Fatalf("%s[%d] = %v, want %v", nt.Name, i, got[i], nt.Data[i])
			}
		}
	}
	if err := fo.ReadFloat32("nope", nil); err == nil || !strings.Contains(err.Error(), `tensor "nope": no such tensor`) {
		t.Errorf("missing tensor: %v", err)
	}

	// Everything fits: a single model.safetensors, no index.
	dir2 := t.TempDir()
	names, err = WriteSafetensorsSharded(dir2, ts, F32, nil, 0)
	if err != nil || len(names) != 1 || names[0] != WeightsFile {
		t.Fatalf("unsharded: %v %v", names, err)
	}
	// Re-sharding the same folder removes the single file, and back again.
	if _, err := WriteSafetensorsSharded(dir2, ts, F32, nil, 1000); err != nil {
		t.Fatal(err)
	}
	if ff, _ := ScanFolder(dir2); ff.Weights != "" || ff.WeightsIndex == "" {
		t.Errorf("after sharding: %+v", ff)
	}
	if _, err := WriteSafetensorsSharded(dir2, ts, F32, nil, 0); err != nil {
		t.Fatal(err)
	}
	if ff, _ := ScanFolder(dir2); ff.Weights == "" || ff.WeightsIndex != "" {
		t.Errorf("after unsharding: %+v", ff)
	}
}

func TestShardedFolderErrors(t *testing.T) {
	c := tinyConfig()
	ts := tinyTensors(c)
	for _, cse := range []struct {
		name  string
		index string
		want  string
	}{
		{"not json", `{"weight_map": [1]}`, `key "weight_map" must map tensor names to shard files`},
		{"empty map", `{"metadata": {}}`, "weight_map is missing or empty: download the model folder again"},
		{"cut short", `{"weight_map": {"model.norm.weight": "model-00001-of`, "not valid JSON: it ends at line 1, column 52 before the JSON is complete: the file was cut short (an interrupted write, download or copy?): download the model folder again"},
		// A key in another case is no weight_map to transformers: said,
		// not read as one (encoding/json matches keys ignoring case).
		{"key in another case", `{"Weight_Map": {"model.norm.weight": "model-00001-of-00003.safetensors"}}`,
			`"Weight_Map" is not a field: the field is "weight_map" (field names are case-sensitive): write it "weight_map", as transformers reads it`},
		{"escaping shard", `{"weight_map": {"model.norm.weight": "../x.safetensors"}}`, `tensor "model.norm.weight": shard "../x.safetensors" is not a file inside the folder`},
		// A shard the index names but the folder lacks (a download that
		// stopped) is said as that, not as os.Open's "no such file".
		{"missing shard", `{"weight_map": {"model.norm.weight": "gone.safetensors"}}`, `shard gone.safetensors is missing: the index places tensor "model.norm.weight" in it; the folder is incomplete`},
		{"missing shard of several", `{"weight_map": {"model.norm.weight": "gone.safetensors", "model.embed_tokens.weight": "gone.safetensors"}}`, `shard gone.safetensors is missing: the index places 2 tensors ("model.embed_tokens.weight" the first) in it`},
		{"tensor not in shard", `{"weight_map": {"model.nothing": "model-00001-of-00003.safetensors"}}`, `tensor "model.nothing": the index places it in model-00001-of-00003.safetensors, which has no such tensor: download the model folder again`},
	} {
		t.Run(cse.name, func(t *testing.T) {
			dir := t.TempDir()
			names, err := WriteSafetensorsSharded(dir, ts, F32, nil, 2000)
			if err != nil || len(names) != 4 {
				t.Fatalf("%v %v", names, err)
			}
			ip := filepath.Join(dir, IndexFile)
			os.WriteFile(ip, []byte(cse.index), 0o644)
			fo, err := OpenFolder(dir)
			if err == nil {
				fo.Close()
				t.Fatal("OpenFolder succeeded")
			}
			if !strings.Contains(err.Error(), cse.want) || !strings.Contains(err.Error(), ip) {
				t.Errorf("error %q\nwant it to contain %q and %s", err, cse.want, ip)
			}
		})
	}
}

// TestDamagedWeightsSayWhatToDo: a model folder whose weights are cut
// short (a download or copy that stopped part way), model.safetensors or
// a shard, says so and what to do: download the folder again. It said
// what was wrong with the header and no more.
func TestDamagedWeightsSayWhatToDo(t *testing.T) {
	ts := tinyTensors(tinyConfig())
	for _, c := range []struct {
		name  string
		shard int64 // 0: one model.safetensors
	}{{"model.safetensors", 0}, {"a shard", 2000}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, WeightsFile)
			if c.shard == 0 {
				if err := WriteSafetensors(file, ts, F32, nil); err != nil {
					t.Fatal(err)
				}
			} else {
				names, err := WriteSafetensorsSharded(dir, ts, F32, nil, c.shard)
				if err != nil {
					t.Fatal(err)
				}
				file = filepath.Join(dir, names[1])
			}
			if err := os.Truncate(file, 100); err != nil {
				t.Fatal(err)
			}
			fo, err := OpenFolder(dir)
			if err == nil {
				fo.Close()
				t.Fatal("OpenFolder succeeded")
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), file) || !strings.HasSuffix(err.Error(), "(file truncated?): download the model folder again") {
				t.Errorf("error %q\nwant %s malformed, cut short: …: download the model folder again", err, file)
			}
		})
	}
}

// weightsFolder is a folder of ts as float32 model.safetensors, opened
// (closed when the test ends).
func weightsFolder(t *testing.T, ts []NamedTensor) *Folder {
	t.Helper()
	dir := t.TempDir()
	if err := WriteSafetensors(filepath.Join(dir, WeightsFile), ts, F32, nil); err != nil {
		t.Fatal(err)
	}
	fo, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fo.Close() })
	return fo
}

func TestCheckQwen2(t *testing.T) {
	c := tinyConfig()
	ts := tinyTensors(c)
	// Break one shape, drop one tensor, store one as integers.
	for i := range ts {
		switch ts[i].Name {
		case "model.layers.0.mlp.up_proj.weight":
			ts[i].Shape = []int{12, 4}
			ts[i].Data = ts[i].Data[:48]
		}
	}
	var kept []NamedTensor
	for _, nt := range ts {
		if nt.Name != "model.layers.1.self_attn.k_proj.bias" && nt.Name != "lm_head.weight" {
			kept = append(kept, nt)
		}
	}
	fo := weightsFolder(t, kept)
	p := filepath.Join(fo.Dir(), WeightsFile)
	err := fo.CheckQwen2(c)
	if err == nil {
		t.Fatal("CheckQwen2 passed")
	}
	for _, w := range []string{
		"load " + p + `: tensor "model.layers.0.mlp.up_proj.weight": shape [12 4] but config wants [12 8]`,
		"load " + p + `: tensor "model.layers.1.self_attn.k_proj.bias": missing (config wants shape [4])`,
		`tensor "lm_head.weight": missing (config wants shape [16 8])`,
		// Said once: Qwen2 always has them, whatever attention_bias says.
		"\nQwen2's q/k/v projections always have biases (transformers' and vLLM's Qwen2 have them whatever attention_bias says)",
		// Said once, with the way on: the shape was said with none.
		"\n" + ShapeNote(fo.Dir()),
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nwant it to contain %q", err, w)
		}
	}
	if n := strings.Count(err.Error(), "always have biases"); n != 1 {
		t.Errorf("the biases' note said %d times: %q", n, err)
	}
	if strings.Contains(err.Error(), "does not read") {
		t.Errorf("no tensor the model does not read, yet: %q", err)
	}
	// Tied: lm_head is not needed.
	c.TieWordEmbeddings = true
	if err := fo.CheckQwen2(c); err == nil || strings.Contains(err.Error(), "lm_head") {
		t.Errorf("tied: %v", err)
	}
}

// TestCheckQwen2NamesUnreadTensors: where a tensor is missing, the ones the
// checkpoint holds that the model does not read are named (a damaged name
// is found beside the one it lost); extra tensors alone are no problem.
func TestCheckQwen2NamesUnreadTensors(t *testing.T) {
	c := tinyConfig()
	for _, tc := range []struct {
		name   string
		rename map[string]string
		extra  bool
		want   string // "" for no error
	}{
		{"damaged name", map[string]string{"model.embed_tokens.weight": "model.embed_tokens.weighX"}, false,
			`the checkpoint also holds tensors the model does not read: "model.embed_tokens.weighX": is a missing one there`},
		{"extra tensor alone", nil, true, ""},
		{"extra tensor beside a missing one", map[string]string{"model.norm.weight": "model.norm.weight.bak"}, true,
			`does not read: "model.norm.weight.bak", "model.rotary_emb.inv_freq"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := tinyTensors(c)
			for i := range ts {
				if to, ok := tc.rename[ts[i].Name]; ok {
					ts[i].Name = to
				}
			}
			if tc.extra {
				ts = append(ts, NamedTensor{Name: "model.rotary_emb.inv_freq", Shape: []int{2}, Data: []float32{1, 0.5}})
			}
			err := weightsFolder(t, ts).CheckQwen2(c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckQwen2: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CheckQwen2: %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// MissingNote is the plain note (no separator: the caller joins it) for a
// q/k/v bias a Qwen2 checkpoint lacks, and nothing for any other tensor or
// model.
func TestMissingNote(t *testing.T) {
	qwen2 := tinyConfig()
	qwen2.ModelType, qwen2.QKVBias = "qwen2", true
	noBias := qwen2
	noBias.QKVBias = false
	llama := qwen2
	llama.ModelType = "llama"
	const note = "Qwen2's q/k/v projections always have biases (transformers' and vLLM's Qwen2 have them whatever attention_bias says): a checkpoint without them is not a Qwen2 one"
	for _, c := range []struct {
		name   string
		cfg    Config
		tensor string
		want   string
	}{
		{"a Qwen2 k bias", qwen2, "model.layers.1.self_attn.k_proj.bias", note},
		{"a Qwen2 weight", qwen2, "model.layers.1.self_attn.k_proj.weight", ""},
		{"a Qwen2 config without biases", noBias, "model.layers.1.self_attn.k_proj.bias", ""},
		{"another model type", llama, "model.layers.1.self_attn.k_proj.bias", ""},
	} {
		if got := MissingNote(c.cfg, c.tensor); got != c.want {
			t.Errorf("%s: MissingNote = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestLoadConfigSaysWhatTheFolderIs: a folder without config.json is
// described (a run folder of ours, one of its checkpoints, or what a model
// folder lacks), not reported as a file that cannot be opened, nor given
// advice that fits a model folder (a checkpoint's optimizer.safetensors is
// not a model's weights to rename).
func TestLoadConfigSaysWhatTheFolderIs(t *testing.T) {
	run := t.TempDir()
	os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644)
	checkpoint := t.TempDir()
	os.WriteFile(filepath.Join(checkpoint, "optimizer.safetensors"), []byte("{}"), 0o644)
	os.Mkdir(filepath.Join(checkpoint, "teacher"), 0o755)
	os.WriteFile(filepath.Join(checkpoint, "teacher", ConfigFile), []byte("{}"), 0o644)
	pair := t.TempDir()
	for _, m := range []string{"teacher", "student"} {
		os.Mkdir(filepath.Join(pair, m), 0o755)
		os.WriteFile(filepath.Join(pair, m, ConfigFile), []byte("{}"), 0o644)
	}
	// Its two folders are said as words of the command to give them in,
	// quoted (shell.Quote): a space in the path was said bare, and the
	// pasted command read two words.
	spaced := filepath.Join(t.TempDir(), "my pair")
	for _, m := range []string{"teacher", "student"} {
		os.MkdirAll(filepath.Join(spaced, m), 0o755)
		os.WriteFile(filepath.Join(spaced, m, ConfigFile), []byte("{}"), 0o644)
	}
	half := t.TempDir()
	os.WriteFile(filepath.Join(half, TokenizerFile), []byte("{}"), 0o644)
	gone := filepath.Join(t.TempDir(), "gone")
	// What to do about a missing folder is said with it: it was a bare
	// "does not exist".
	goneSaid := "model folder " + gone + " does not exist: check the path, or give a folder holding config.json, model.safetensors and tokenizer.json (`rlt model defaults --out DIR` writes the embedded teacher and student)"
	for _, c := range []struct {
		what, dir, want string
	}{
		{"missing folder", gone, goneSaid},
		{"missing config file", filepath.Join(gone, "c.json"), filepath.Join(gone, "c.json") + " does not exist"},
		// A missing folder's config.json: the folder said, as ScanFolder says it.
		{"missing folder's config.json", filepath.Join(gone, ConfigFile), goneSaid},
		{"missing config.json in a folder that exists", filepath.Join(run, ConfigFile), run + " is a run folder, not a model folder"},
		{"run folder", run, run + " is a run folder, not a model folder"},
		{"checkpoint", checkpoint, checkpoint + " is a training checkpoint, not a model folder: the teacher trained to that step is the model folder " + filepath.Join(checkpoint, "teacher")},
		{"rlt pretrain's output", pair, pair + " holds two model folders, not one (rlt pretrain writes them so): give " + filepath.Join(pair, "teacher") + " or " + filepath.Join(pair, "student")},
		{"rlt pretrain's output in a folder with a space", spaced, spaced + " holds two model folders, not one (rlt pretrain writes them so): give " +
			shell.Quote(filepath.Join(spaced, "teacher")) + " or " + shell.Quote(filepath.Join(spaced, "student"))},
		{"folder with a tokenizer only", half, "is incomplete: missing config.json"},
	} {
		if _, err := LoadConfig(c.dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
	}
	if _, err := ScanFolder(gone); err == nil || err.Error() != goneSaid {
		t.Errorf("ScanFolder of a missing folder: %v, want it said as LoadConfig says it", err)
	}
}

// TestFileGivenAsAModelFolder: a file where a model folder goes is said for
// what it is by every reader of a model folder, not as "not a directory"
// on a path inside it; one of a model folder's own files names the folder
// to give instead.
func TestFileGivenAsAModelFolder(t *testing.T) {
	model := t.TempDir()
	for _, name := range []string{ConfigFile, WeightsFile, "model-00001-of-00002.safetensors", SpecialTokensMapFile} {
		os.WriteFile(filepath.Join(model, name), []byte("{}"), 0o644)
	}
	data := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(data, []byte("{}\n"), 0o644)
	stray := filepath.Join(t.TempDir(), "lone.safetensors") // no config.json beside it
	os.WriteFile(stray, []byte("{}"), 0o644)
	holds := func(p string) string {
		return p + " is a file, not a model folder: give the folder that holds it (" + model + ")"
	}
	notModel := func(p string) string {
		return p + " is a file, not a model folder: give a folder holding config.json, model.safetensors and tokenizer.json"
	}
	weights, shard := filepath.Join(model, WeightsFile), filepath.Join(model, "model-00001-of-00002.safetensors")
	for _, c := range []struct {
		path, want string // want "": no error of this kind
	}{
		{weights, holds(weights)},
		{filepath.Join(model, ConfigFile), holds(filepath.Join(model, ConfigFile))},
		{shard, holds(shard)},
		{filepath.Join(model, SpecialTokensMapFile), holds(filepath.Join(model, SpecialTokensMapFile))},
		{data, notModel(data)},
		{stray, notModel(stray)},
		{model, ""},
		{filepath.Join(model, "gone"), ""},
	} {
		err := FileNotFolder(c.path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("FileNotFolder(%s): %v, want nil", c.path, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("FileNotFolder(%s): %v, want %q", c.path, err, c.want)
		}
		if c.want == "" {
			continue
		}
		// The readers of a model folder say the same.
		if _, err := ScanFolder(c.path); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("ScanFolder(%s): %v, want %q", c.path, err, c.want)
		}
		if _, err := OpenFolder(c.path); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("OpenFolder(%s): %v, want %q", c.path, err, c.want)
		}
		if _, err := LoadConfig(filepath.Join(c.path, ConfigFile)); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("LoadConfig(%s/config.json): %v, want %q", c.path, err, c.want)
		}
	}
}

// TestCheckQwen2LayerCount: a config whose num_hidden_layers is not the
// checkpoint's count of layers is said once, with both counts and the fix,
// instead of ten missing tensors, "… and N more problems" and a note that
// Qwen2 always has q/k/v biases (a config of 100000 layers for a 4-layer
// checkpoint); one of fewer layers was passed, its layers past the count
// "not a Qwen2 weight". A layer missing inside the count is no count
// mismatch: its tensors are named missing, as before.
func TestCheckQwen2LayerCount(t *testing.T) {
	c := tinyConfig() // 2 layers
	full := tinyTensors(c)
	three := c
	three.NumHiddenLayers = 3
	var gap []NamedTensor // layers 0 and 2 of 3
	for _, nt := range tinyTensors(three) {
		if !strings.HasPrefix(nt.Name, "model.layers.1.") {
			gap = append(gap, nt)
		}
	}
	for _, tc := range []struct {
		name   string
		ts     []NamedTensor
		layers int
		want   []string // nil: it passes
		not    []string
	}{
		{"the checkpoint's", full, 2, nil, nil},
		{"fewer", full, 1, []string{"num_hidden_layers is 1, but ", "holds 2 layers (model.layers.0 to model.layers.1): the model would compute with its first 1 and leave out layer 1; the config and the weights are not of one model: set num_hidden_layers to 2"}, nil},
		{"far more", full, 100000, []string{"num_hidden_layers is 100000, but ", "the load would find no weights for layers 2 to 99999"}, []string{"more problems", "always have biases", "missing"}},
		{"a layer missing inside the count", gap, 3, []string{`tensor "model.layers.1.input_layernorm.weight": missing`}, []string{"num_hidden_layers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fo := weightsFolder(t, tc.ts)
			cc := c
			cc.NumHiddenLayers = tc.layers
			err := fo.CheckQwen2(cc)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckQwen2: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckQwen2 passed")
			}
			if tc.not == nil || !slices.Contains(tc.not, "num_hidden_layers") {
				tc.want = append(tc.want, filepath.Join(fo.Dir(), ConfigFile)+": ", filepath.Join(fo.Dir(), WeightsFile))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckQwen2: %v\nwant it to contain %q", err, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("CheckQwen2: %v\nwant no %q", err, w)
				}
			}
		})
	}
}

// A folder's Path is its weights file, or its shards' index, as the
// folder was given (relative or absolute): a tensor missing from the
// folder "nb" was said to be missing from "nb/nb/model.safetensors", the
// folder joined twice.
func TestFolderPathIsItsWeightsFile(t *testing.T) {
	c := tinyConfig()
	single := t.TempDir()
	if err := WriteSafetensors(filepath.Join(single, WeightsFile), tinyTensors(c), F32, nil); err != nil {
		t.Fatal(err)
	}
	sharded := t.TempDir()
	if _, err := WriteSafetensorsSharded(sharded, tinyTensors(c), F32, nil, 600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(single))
	relative := filepath.Base(single)
	for _, c := range []struct{ name, dir, want string }{
		{"one file", single, filepath.Join(single, WeightsFile)},
		{"one file, a relative folder", relative, filepath.Join(relative, WeightsFile)},
		{"shards", sharded, filepath.Join(sharded, IndexFile)},
	} {
		fo, err := OpenFolder(c.dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fo.Path(); got != c.want {
			t.Errorf("%s: Path() = %q; want %q", c.name, got, c.want)
		}
		fo.Close()
	}
}

// A model's folder of the Hugging Face cache (models--ORG--NAME, filled by
// huggingface-cli download without --local-dir), or its snapshots/, is
// said as such with the model folder in it to give: the revision
// refs/main names, else the only one, else each. It was "incomplete …
// found nothing relevant", and to be fetched again.
func TestHubCacheFolderNamesItsSnapshot(t *testing.T) {
	cache := func(t *testing.T, main string, revs ...string) string {
		repo := filepath.Join(t.TempDir(), "models--Qwen--Qwen2.5-0.5B")
		for _, d := range append([]string{"blobs", "refs"}, revs...) {
			if d != "blobs" && d != "refs" {
				d = filepath.Join("snapshots", d)
			}
			if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, rev := range revs {
			touch(t, filepath.Join(repo, "snapshots", rev), ConfigFile, WeightsFile, TokenizerFile)
		}
		if main != "" {
			if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return repo
	}
	const is = " is a folder of the Hugging Face cache (what huggingface-cli download and from_pretrained fill without --local-dir), not a model folder: its model folders are in "
	for _, c := range []struct {
		name string
		dir  func(t *testing.T) (dir, want string)
	}{
		{"refs/main's revision", func(t *testing.T) (string, string) {
			repo := cache(t, "b2", "a1", "b2")
			snaps := filepath.Join(repo, "snapshots")
			return repo, repo + is + snaps + ", one for each revision: give " + filepath.Join(snaps, "b2") + " (the revision refs/main names)"
		}},
		{"its snapshots folder", func(t *testing.T) (string, string) {
			repo := cache(t, "b2", "a1", "b2")
			snaps := filepath.Join(repo, "snapshots")
			return snaps, snaps + is + snaps + ", one for each revision: give " + filepath.Join(snaps, "b2") + " (the revision refs/main names)"
		}},
		{"the only revision", func(t *testing.T) (string, string) {
			repo := cache(t, "", "a1")
			snaps := filepath.Join(repo, "snapshots")
			return repo, repo + is + snaps + ", one for each revision: give " + filepath.Join(snaps, "a1")
		}},
		{"each revision", func(t *testing.T) (string, string) {
			repo := cache(t, "gone", "a1", "b2")
			snaps := filepath.Join(repo, "snapshots")
			return repo, repo + is + snaps + ", one for each revision: give one of " + filepath.Join(snaps, "a1") + ", " + filepath.Join(snaps, "b2")
		}},
		{"no snapshots: incomplete", func(t *testing.T) (string, string) {
			repo := cache(t, "")
			return repo, "model folder " + repo + " is incomplete"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, want := c.dir(t)
			ff, err := ScanFolder(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := ff.Check(true); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Check: %v\nwant it to begin %q", err, want)
			}
		})
	}
}
