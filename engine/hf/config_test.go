package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A config.json as transformers writes it for a Qwen2.5-0.5B-sized model.
const qwenConfig = `{
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 896,
  "initializer_range": 0.02,
  "intermediate_size": 4864,
  "max_position_embeddings": 32768,
  "max_window_layers": 24,
  "model_type": "qwen2",
  "num_attention_heads": 14,
  "num_hidden_layers": 24,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06,
  "rope_scaling": null,
  "rope_theta": 1000000.0,
  "sliding_window": 32768,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.43.1",
  "use_cache": true,
  "use_sliding_window": false,
  "vocab_size": 151936
}`

func TestParseQwenConfig(t *testing.T) {
	c, err := ParseConfig([]byte(qwenConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		ModelType: "qwen2", Architectures: []string{"Qwen2ForCausalLM"},
		VocabSize: 151936, HiddenSize: 896, IntermediateSize: 4864, NumHiddenLayers: 24,
		NumAttentionHeads: 14, NumKeyValueHeads: 2, MaxPositionEmbeddings: 32768,
		RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, QKVBias: true,
		HiddenAct: "silu", TorchDType: "bfloat16", BOSTokenID: []int{151643}, EOSTokenID: []int{151643},
	}
	extra := c.Extra
	c.Extra = nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	for _, k := range []string{"attention_dropout", "initializer_range", "max_window_layers", "rope_scaling", "sliding_window", "transformers_version", "use_cache"} {
		if _, ok := extra[k]; !ok {
			t.Errorf("unknown key %q not kept", k)
		}
	}
	if c.HeadSize() != 64 {
		t.Errorf("HeadSize = %d", c.HeadSize())
	}
	if n := len(Qwen2Tensors(c)); n != 1+24*12+1 {
		t.Errorf("Qwen2Tensors: %d tensors", n)
	}
}

func TestConfigDefaultsAndVariants(t *testing.T) {
	base := `"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4`
	for _, c := range []struct {
		name  string
		json  string
		check func(Config) bool
	}{
		{"defaults", `{` + base + `}`, func(c Config) bool {
			return c.NumKeyValueHeads == 4 && c.RopeTheta == 10000 && !c.TieWordEmbeddings && c.QKVBias &&
				c.ModelType == "qwen2" && c.HiddenAct == "silu" && c.RMSNormEps == 1e-6 && c.MaxPositionEmbeddings == 32768 &&
				c.BOSTokenID == nil && c.Extra == nil
		}},
		{"rope_parameters", `{` + base + `, "rope_parameters": {"rope_theta": 500000.0, "rope_type": "default"}}`, func(c Config) bool {
			return c.RopeTheta == 500000 && c.RopeType == "default"
		}},
		{"rope_parameters agreeing with top level", `{` + base + `, "rope_theta": 7, "rope_parameters": {"rope_theta": 7}}`, func(c Config) bool {
			return c.RopeTheta == 7
		}},
		{"rope_scaling type", `{` + base + `, "rope_scaling": {"type": "yarn", "factor": 4}}`, func(c Config) bool {
			return c.RopeType == "yarn" && c.RopeTheta == 10000
		}},
		{"eos list, bos null", `{` + base + `, "eos_token_id": [1, 2], "bos_token_id": null}`, func(c Config) bool {
			return reflect.DeepEqual(c.EOSTokenID, []int{1, 2}) && c.BOSTokenID == nil
		}},
		// transformers' Qwen2 has q/k/v biases whatever attention_bias says.
		{"attention_bias false", `{` + base + `, "attention_bias": false}`, func(c Config) bool { return c.QKVBias && c.Extra == nil }},
		{"attention_bias true", `{` + base + `, "attention_bias": true}`, func(c Config) bool { return c.QKVBias && c.Extra == nil }},
		{"newer dtype key", `{` + base + `, "dtype": "float16"}`, func(c Config) bool { return c.TorchDType == "float16" }},
		{"tie true", `{` + base + `, "tie_word_embeddings": true}`, func(c Config) bool { return c.TieWordEmbeddings }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(cfg) {
				t.Errorf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestConfigParseErrors(t *testing.T) {
	base := `"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2`
	for _, c := range []struct{ name, json, want string }{
		{"not an object", `[1,2]`, `not a JSON object (starts with "[1,2]")`},
		{"empty", ``, `not a JSON object: the file is empty`},
		{"spaces", " \n", `not a JSON object: the file is empty`},
		// Another file given as a config.json is said for what it is (a
		// weights file read 'not a JSON object (starts with "h\x14\x00…")').
		{"safetensors", string(stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))), `this is a safetensors weights file, not a config.json`},
		{"binary", "\x00\x01\x02\xff", `this is not text (a weights or other binary file?), not a config.json`},
		{"TOML", "teacher = 'a'\n", `not a JSON object (starts with "teacher = 'a'"): a config.json is one JSON object`},
		{"broken JSON", `{"a": }`, `not valid JSON`},
		{"missing key", `{` + base + `}`, `config.json: no key "num_attention_heads", which the model's shape needs: fix the file: add "num_attention_heads": the model's value, a whole number such as 896`},
		{"string size", `{` + base + `, "num_attention_heads": "4"}`, `num_attention_heads "4" is a string, not a whole number (write it without the quotes): fix the file: write a whole number in digits, such as 896`},
		{"fractional size", `{` + base + `, "num_attention_heads": 4.5}`, `num_attention_heads 4.5 is not a whole number: fix the file: write a whole number in digits, such as 896`},
		// 1e400 is past any float64 (ParseFloat's +Inf); hf said it as
		// no integer, engine/serve as past the vocabulary.
		{"size past any float", `{` + base + `, "num_attention_heads": 1e400}`, `num_attention_heads 1e400 is past any whole number read here (2^63): fix the file: write a whole number in digits, such as 896`},
		{"bool as string", `{` + base + `, "num_attention_heads": 4, "tie_word_embeddings": "true"}`, `tie_word_embeddings "true" is a string, not true or false: fix the file: write true or false`},
		{"eps string", `{` + base + `, "num_attention_heads": 4, "rms_norm_eps": "1e-6"}`, `rms_norm_eps "1e-6" is a string, not a number: fix the file: write a number`},
		{"eos object", `{` + base + `, "num_attention_heads": 4, "eos_token_id": {"a": 1}}`, `eos_token_id {"a": 1} is an object, not a whole number: fix the file: write the id of a token, or a list of them, or remove the key`},
		{"eos list of strings", `{` + base + `, "num_attention_heads": 4, "eos_token_id": ["x"]}`, `eos_token_id ["x"]: its item 1, "x", is a string, not a whole number: fix the file: write the id of a token, or a list of them, or remove the key`},
		{"eos list with a fraction", `{` + base + `, "num_attention_heads": 4, "eos_token_id": [151643, 2.5]}`, `eos_token_id [151643, 2.5]: its item 2, 2.5, is not a whole number: fix the file: write the id of a token, or a list of them, or remove the key`},
		{"architectures string", `{` + base + `, "num_attention_heads": 4, "architectures": "Qwen2ForCausalLM"}`, `architectures "Qwen2ForCausalLM" is a string, not a list of strings: fix the file: write a list of strings`},
		{"rope_parameters list", `{` + base + `, "num_attention_heads": 4, "rope_parameters": [1]}`, `rope_parameters [1] is a list, not an object: fix the file: write an object`},
		{"rope theta string inside", `{` + base + `, "num_attention_heads": 4, "rope_parameters": {"rope_theta": "1e6"}}`, `rope_parameters: rope_theta "1e6" is a string, not a number: fix the file: write a number`},
		{"rope theta disagrees", `{` + base + `, "num_attention_heads": 4, "rope_theta": 10000, "rope_parameters": {"rope_theta": 1e6}}`, `rope_parameters: rope_theta 1e+06 disagrees with the top-level rope_theta 10000`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestConfigListItemOfItsOwnKey: a token id list's bad item is said
// after that key's own problem only; an earlier key's problem is said
// alone, as ParseConfig says the first. The item of a later list was
// appended to it ('key "num_attention_heads": want an integer, found a
// string "4": its item 2, "x", is not a token id ...'), words since
// replaced by WholeNumber's.
func TestConfigListItemOfItsOwnKey(t *testing.T) {
	base := `"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2`
	for _, c := range []struct{ name, json, want string }{
		{"after another key's problem", `{` + base + `, "num_attention_heads": "4", "eos_token_id": [1, "x"]}`,
			`config.json:1:113: num_attention_heads "4" is a string, not a whole number (write it without the quotes): fix the file: write a whole number in digits, such as 896`},
		{"after a bos item", `{` + base + `, "num_attention_heads": 4, "bos_token_id": [1, "y"], "eos_token_id": [1, "x"]}`,
			`config.json:1:136: bos_token_id [1, "y"]: its item 2, "y", is a string, not a whole number: fix the file: write the id of a token, or a list of them, or remove the key`},
	} {
		if _, err := ParseConfig([]byte(c.json)); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		c, err := ParseConfig([]byte(qwenConfig))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"heads do not divide hidden", func(c *Config) { c.HiddenSize = 900 }, []string{"num_attention_heads 14 does not divide hidden_size 900"}},
		{"kv do not divide heads", func(c *Config) { c.NumKeyValueHeads = 4 }, []string{"num_key_value_heads 4 does not divide num_attention_heads 14"}},
		{"zero sizes", func(c *Config) { c.VocabSize = 0; c.NumHiddenLayers = -1 }, []string{"vocab_size is 0, want a positive integer", "num_hidden_layers is -1"}},
		{"odd head size", func(c *Config) { c.HiddenSize = 14 * 3 }, []string{"head size hidden_size/num_attention_heads = 3 is odd"}},
		{"head_dim mismatch", func(c *Config) { c.HeadDim = 128 }, []string{"head_dim 128 differs from hidden_size/num_attention_heads = 64"}},
		{"gelu", func(c *Config) { c.HiddenAct = "gelu" }, []string{`hidden_act is "gelu", want "silu"`}},
		{"llama", func(c *Config) { c.ModelType = "llama" }, []string{`model_type is "llama", want "qwen2"`}},
		{"yarn", func(c *Config) { c.RopeType = "yarn" }, []string{`rope type "yarn" is not supported`}},
		{"eps", func(c *Config) { c.RMSNormEps = 0 }, []string{"rms_norm_eps is 0"}},
		{"theta", func(c *Config) { c.RopeTheta = -1 }, []string{"rope_theta is -1"}},
		{"sliding", func(c *Config) { c.UseSlidingWindow = true }, []string{"use_sliding_window is true"}},
		{"eos outside vocab", func(c *Config) { c.EOSTokenID = []int{151643, 200000} }, []string{"eos_token_id 200000 is outside the vocabulary [0, 151936): write the id of one of the model's tokens (0 to 151935), or remove it"}},
		{"eos negative", func(c *Config) { c.EOSTokenID = []int{-1} }, []string{"eos_token_id -1 is negative, outside the vocabulary [0, 151936): write the id of one of the model's tokens (0 to 151935), or remove it"}},
		{"bos negative", func(c *Config) { c.BOSTokenID = []int{-2} }, []string{"bos_token_id -2 is negative, outside the vocabulary [0, 151936)"}},
		{"dtype", func(c *Config) { c.TorchDType = "int8" }, []string{`torch_dtype is "int8", want float32, bfloat16, float16 or auto`}},
		// 14 heads of 71428572: a count in int wrapped around.
		{"past int64", func(c *Config) { c.HiddenSize = 14 * 71428572 }, []string{"hidden_size 1000000008, intermediate_size 4864, num_hidden_layers 24 and vocab_size 151936 make about 5.49e+19 parameters, 2.19e+20 bytes at float32: past what a size in bytes can count (2^63)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok()
			c.edit(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatalf("Validate passed, want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// A config.json refused names its key and says what to do; torch_dtype
// "auto" (the weights' own type, which the file says) is taken.
func TestConfigRefusalsSayWhatToDo(t *testing.T) {
	base := `"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4`
	for _, c := range []struct{ name, json, want string }{
		{"yarn", `{` + base + `, "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}`,
			`rope_scaling: rope type "yarn" is not supported (only the default RoPE): for contexts within original_max_position_embeddings (32768), remove rope_scaling from config.json`},
		{"linear", `{` + base + `, "max_position_embeddings": 4096, "rope_scaling": {"rope_type": "linear", "factor": 2.0}}`,
			`rope_scaling: rope type "linear" is not supported (only the default RoPE): for contexts within max_position_embeddings (4096), remove rope_scaling`},
		{"rope_parameters", `{` + base + `, "rope_parameters": {"rope_type": "yarn", "rope_theta": 1e6}}`,
			`rope_parameters: rope type "yarn" is not supported`},
		{"scaling beside a default", `{` + base + `, "rope_parameters": {"rope_type": "default"}, "rope_scaling": {"type": "yarn"}}`,
			`rope_scaling: rope type "yarn"`},
		{"sliding window", `{` + base + `, "use_sliding_window": true, "sliding_window": 4096}`,
			`use_sliding_window is true, which is not supported (attention over the whole context only): set it to false in config.json, which computes the same for sequences within sliding_window (4096 tokens)`},
		{"torch_dtype auto", `{` + base + `, "torch_dtype": "auto"}`, ""},
		{"dtype auto", `{` + base + `, "dtype": "auto"}`, ""},
	} {
		cfg, err := ParseConfig([]byte(c.json))
		if err == nil {
			err = cfg.Validate()
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want it taken", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v\nwant it to contain %q", c.name, err, c.want)
		}
	}
}

func TestConfigWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{qwenConfig, `{"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
		"num_attention_heads": 4, "eos_token_id": [1, 2], "attention_bias": false, "custom": {"nested": [1, 2, 3]},
		"rope_parameters": {"rope_theta": 500000, "rope_type": "default", "extra": 1}}`} {
		c, err := ParseConfig([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "config.json")
		if err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		back, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normExtra(t, back), normExtra(t, c)) {
			t.Errorf("round trip changed the config:\n%+v\n%+v", back, c)
		}
		// The file is what transformers expects: floats stay floats.
		b, _ := os.ReadFile(p)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"rope_theta": `) || !strings.Contains(string(b), `"rms_norm_eps": 1e-06`) {
			t.Errorf("written config:\n%s", b)
		}
	}
	// A changed rope_theta reaches rope_parameters too.
	c, _ := ParseConfig([]byte(`{"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "rope_parameters": {"rope_theta": 10.0}}`))
	c.RopeTheta = 20
	p := filepath.Join(dir, "c2.json")
	if err := WriteConfig(p, c); err != nil {
		t.Fatal(err)
	}
	back, err := LoadConfig(p)
	if err != nil || back.RopeTheta != 20 {
		t.Errorf("rope_theta after write: %v, %v", back.RopeTheta, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// normExtra re-encodes Extra values compactly so formatting differences in
// the written file do not count.
func normExtra(t *testing.T, c Config) Config {
	for k, v := range c.Extra {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(x)
		c.Extra[k] = b
	}
	return c
}

func TestLoadConfigErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	os.WriteFile(p, []byte(`{"vocab_size": 256, "hidden_size": 60, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 8}`), 0o644)
	_, err := LoadConfig(dir)
	if err == nil || !strings.Contains(err.Error(), "load config "+p+": num_attention_heads 8 does not divide hidden_size 60") {
		t.Errorf("error %v", err)
	}
	_, err = LoadConfig(filepath.Join(dir, "nope"))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("error %v", err)
	}
}
