package model

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// A model loaded from a Hub-style folder and saved again keeps every key of
// its config.json (bos/eos ids, sliding_window, transformers_version, …),
// as model init keeps those of the config it is given: only the shape keys
// come from the model and torch_dtype says what the file holds. A model
// made in memory gets a fresh Qwen2 config.
func TestSaveKeepsTheSourceConfig(t *testing.T) {
	src := `{"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 96, "hidden_size": 32,
		"intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
		"max_position_embeddings": 128, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true,
		"hidden_act": "silu", "torch_dtype": "bfloat16", "use_sliding_window": false, "bos_token_id": 90,
		"eos_token_id": [91, 90], "sliding_window": 32768, "max_window_layers": 21, "attention_dropout": 0.0,
		"initializer_range": 0.02, "use_cache": true, "transformers_version": "4.43.1"}`
	hc, err := hf.ParseConfig([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(src), &want); err != nil {
		t.Fatal(err)
	}
	be := compute.NewCPU()
	for _, c := range []struct {
		name      string
		write     func(dir string) error // makes the folder whose config.json is checked
		dtype     string                 // its torch_dtype
		keepsKeys bool
	}{
		{"model init (WriteRandom)", func(dir string) error {
			_, err := WriteRandom(context.Background(), dir, hc, 1, hf.BF16)
			return err
		}, "bfloat16", true},
		{"loaded and saved in float32", func(dir string) error {
			from := filepath.Join(dir, "from")
			if _, err := WriteRandom(context.Background(), from, hc, 1, hf.BF16); err != nil {
				return err
			}
			m, err := Load(be, from)
			if err != nil {
				return err
			}
			return m.Save(dir, hf.F32)
		}, "float32", true},
		{"loaded frozen and saved in bf16", func(dir string) error {
			from := filepath.Join(dir, "from")
			if _, err := WriteRandom(context.Background(), from, hc, 1, hf.BF16); err != nil {
				return err
			}
			m, err := LoadAs(context.Background(), be, from, Frozen16)
			if err != nil {
				return err
			}
			return m.Save(dir, hf.BF16)
		}, "bfloat16", true},
		{"made in memory", func(dir string) error {
			m, err := NewRandom(be, smallConfig(true), 1)
			if err != nil {
				return err
			}
			return m.Save(dir, hf.F32)
		}, "float32", false},
	} {
		dir := t.TempDir()
		if err := c.write(dir); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, hf.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if got["torch_dtype"] != c.dtype {
			t.Errorf("%s: torch_dtype %v, want %s", c.name, got["torch_dtype"], c.dtype)
		}
		if !c.keepsKeys {
			for _, k := range []string{"bos_token_id", "eos_token_id", "sliding_window", "transformers_version"} {
				if _, ok := got[k]; ok {
					t.Errorf("%s: key %q written, though the model has no source config", c.name, k)
				}
			}
		}
		for k, v := range want {
			if k != "torch_dtype" && c.keepsKeys && !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s: key %q is %v, want %v (the source's)", c.name, k, got[k], v)
			}
		}
		if _, err := hf.LoadConfig(dir); err != nil {
			t.Errorf("%s: the saved config.json does not load: %v", c.name, err)
		}
	}
}

// A qwen2 config.json's attention_bias is ignored, as transformers' and
// vLLM's Qwen2 (which have no such key) ignore it: a checkpoint holding
// q/k/v biases loads them whatever the key says, and one without them is
// refused, naming the tensor and why, never loaded without its biases.
func TestAttentionBiasFollowsTransformers(t *testing.T) {
	be := compute.NewCPU()
	withBias, noBias := smallConfig(true), smallConfig(true)
	withBias.QKVBias, noBias.QKVBias = true, false
	for _, c := range []struct {
		name          string
		cfg           Config
		attentionBias string // the key written into config.json ("" none)
		want          string // the refusal, "" when it loads with its biases
	}{
		{"biases, attention_bias false", withBias, "false", ""},
		{"biases, attention_bias true", withBias, "true", ""},
		{"biases, no key", withBias, "", ""},
		{"no biases, attention_bias false", noBias, "false", `tensor "model.layers.0.self_attn.q_proj.bias" is missing`},
		{"no biases, no key", noBias, "", `tensor "model.layers.0.self_attn.q_proj.bias" is missing`},
	} {
		m, err := NewRandom(be, c.cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		biases := map[string][]float32{}
		for _, p := range m.Params() {
			if strings.HasSuffix(p.Name, "_proj.bias") {
				v := make([]float32, p.Tensor.Len())
				for i := range v {
					v[i] = 0.25 + float32(i)/64
				}
				be.Write(p.Tensor, v)
				biases[p.Name] = v
			}
		}
		dir := t.TempDir()
		if err := m.Save(dir, hf.F32); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, hf.ConfigFile)
		var js map[string]any
		data, _ := os.ReadFile(p)
		json.Unmarshal(data, &js)
		delete(js, "attention_bias")
		if c.attentionBias != "" {
			js["attention_bias"] = c.attentionBias == "true"
		}
		data, _ = json.Marshal(js)
		os.WriteFile(p, data, 0o644)

		back, err := Load(be, dir)
		if c.want != "" {
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "); Qwen2's q/k/v projections always have biases") {
				t.Errorf("%s: error %v, want %q and why", c.name, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := 0
		for _, p := range back.Params() {
			if want, ok := biases[p.Name]; ok {
				got++
				v := make([]float32, p.Tensor.Len())
				be.Read(v, p.Tensor)
				if !reflect.DeepEqual(v, want) {
					t.Errorf("%s: %s loaded as %v, want %v", c.name, p.Name, v[:4], want[:4])
				}
			}
		}
		if got != 3*c.cfg.Layers {
			t.Errorf("%s: %d biases loaded, want %d", c.name, got, 3*c.cfg.Layers)
		}
	}
}

// TestLoadNamesUnreadTensors: a tensor whose name was damaged in the file
// is missing, and the refusal names what the file holds in its place.
func TestLoadNamesUnreadTensors(t *testing.T) {
	be := compute.NewCPU()
	m, err := NewRandom(be, smallConfig(true), 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, hf.F32); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, hf.WeightsFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// The header's name, one byte changed: the file is as long as before.
	data = bytes.Replace(data, []byte(`"model.norm.weight"`), []byte(`"model.norm.weighX"`), 1)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(be, dir)
	// ": " before the path: the folder joined twice ended in p too.
	for _, want := range []string{": " + p + `: tensor "model.norm.weight" is missing`, `the checkpoint also holds tensors the model does not read: "model.norm.weighX"`,
		"the weights and the config disagree: copy or download the checkpoint whole again, or fix its config.json to the weights it holds"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: %v\nwant it to contain %q", err, want)
		}
	}
}

// savedWithConfig saves m (F32) in a new folder dir whose config.json, p,
// then gives key the value value: a checkpoint whose config is not its
// tensors'.
func savedWithConfig(t *testing.T, m *Model, key string, value int) (dir, p string) {
	t.Helper()
	dir = t.TempDir()
	if err := m.Save(dir, hf.F32); err != nil {
		t.Fatal(err)
	}
	p = filepath.Join(dir, hf.ConfigFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	c[key] = value
	if data, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

// TestConfigLayersNotTheCheckpoints: a config.json whose num_hidden_layers
// is not the checkpoint's count of layers is refused by Inspect (what the
// memory estimates read) and by the load, in one sentence naming both
// files, both counts and the fix. Fewer loaded silently, the model
// computing with its first layers only; more were sized by the estimates
// from the config alone (73 GiB for 100000 layers of a 3 MiB checkpoint)
// and refused tensor by tensor after the model's layers were made.
func TestConfigLayersNotTheCheckpoints(t *testing.T) {
	be := compute.NewCPU()
	m, err := NewRandom(be, smallConfig(true), 3) // 2 layers
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		layers int
		want   []string // nil: it loads
	}{
		{"the checkpoint's", 2, nil},
		{"fewer", 1, []string{"num_hidden_layers is 1, but ", " holds 2 layers (model.layers.0 to model.layers.1): the model would compute with its first 1 and leave out layer 1;", "set num_hidden_layers to 2 if these weights are the model's"}},
		{"more", 3, []string{"num_hidden_layers is 3, but ", "the load would find no weights for layer 2;", "put the model's own config.json beside them"}},
		{"far more", 100000, []string{"num_hidden_layers is 100000, but ", "the load would find no weights for layers 2 to 99999"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, p := savedWithConfig(t, m, "num_hidden_layers", tc.layers)
			_, _, ierr := Inspect(dir)
			_, lerr := Load(be, dir)
			for what, err := range map[string]error{"Inspect": ierr, "Load": lerr} {
				if tc.want == nil {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s passed a config of %d layers for a checkpoint of 2", what, tc.layers)
					continue
				}
				for _, w := range append([]string{p + ": "}, tc.want...) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %v\nwant it to contain %q", what, err, w)
					}
				}
				if strings.Contains(err.Error(), "is missing") {
					t.Errorf("%s: said tensor by tensor: %v", what, err)
				}
			}
		})
	}
}

// TestShapeNotTheConfigsSaysTheWayOn: a tensor whose shape is not the one
// config.json gives is refused with the way on, naming that config.json
// (hf.ShapeNote): it was said with the two shapes alone.
func TestShapeNotTheConfigsSaysTheWayOn(t *testing.T) {
	be := compute.NewCPU()
	m, err := NewRandom(be, smallConfig(false), 3) // intermediate 48, vocab 96
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key   string
		value int
		shape string // the refusal's first words past the file
	}{
		{"intermediate_size", 64, `shape [48 32] but the config wants [64 32]`},
		{"vocab_size", 100, `tensor "model.embed_tokens.weight": shape [96 32] but the config wants [100 32]`},
	} {
		t.Run(tc.key, func(t *testing.T) {
			dir, _ := savedWithConfig(t, m, tc.key, tc.value)
			_, err := Load(be, dir)
			for _, w := range []string{tc.shape, "; " + hf.ShapeNote(dir)} {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Load: %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}
