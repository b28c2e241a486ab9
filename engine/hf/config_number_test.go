package hf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withValue is qwenConfig with key's value written as value.
func withValue(t *testing.T, key, value string) string {
	t.Helper()
	i := strings.Index(qwenConfig, `"`+key+`": `)
	if i < 0 {
		return strings.Replace(qwenConfig, "{\n", "{\n  \""+key+"\": "+value+",\n", 1)
	}
	i += len(key) + 4
	end := i + strings.IndexAny(qwenConfig[i:], ",\n")
	return qwenConfig[:i] + value + qwenConfig[end:]
}

// TestConfigFloatSizeRefusedAtItsPlace: a size written as a float
// (896.0, 1e2) was taken as the whole number, though transformers keeps
// the float and PyTorch builds no layer of it (nn.Linear(896.0, …)
// raises), so rlt ran a folder transformers cannot load. It is refused at
// its place, with what to write; the floats transformers takes as floats
// (rope_theta 1000000.0, rms_norm_eps 1e-06) are read as before.
func TestConfigFloatSizeRefusedAtItsPlace(t *testing.T) {
	const isFloat = " is a float, and transformers builds layers of whole sizes only (PyTorch's nn.Linear refuses a float): fix the file: write "
	for _, c := range []struct{ key, value, want string }{
		{"hidden_size", "896.0", ":7:18: hidden_size 896.0" + isFloat + "896"},
		{"hidden_size", "8.96e2", ":7:18: hidden_size 8.96e2" + isFloat + "896"},
		{"num_hidden_layers", "24.0", ":14:24: num_hidden_layers 24.0" + isFloat + "24"},
		{"vocab_size", "1.51936E5", ":25:17: vocab_size 1.51936E5" + isFloat + "151936"},
		{"num_key_value_heads", "2.0", ":15:26: num_key_value_heads 2.0" + isFloat + "2"},
		{"max_position_embeddings", "1e2", ":10:30: max_position_embeddings 1e2" + isFloat + "100"},
		{"head_dim", "64.0", ":2:15: head_dim 64.0" + isFloat + "64"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, ConfigFile)
		if err := os.WriteFile(path, []byte(withValue(t, c.key, c.value)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(dir)
		if want := "load config " + path + c.want; err == nil || err.Error() != want {
			t.Errorf("%s %s: %v\nwant %s", c.key, c.value, err, want)
		}
	}
	// Floats where transformers takes floats.
	c, err := ParseConfig([]byte(withValue(t, "rope_theta", "1e6")))
	if err != nil || c.RopeTheta != 1e6 || c.RMSNormEps != 1e-6 {
		t.Errorf("rope_theta 1e6, rms_norm_eps 1e-06: %v, %v, %v", c.RopeTheta, c.RMSNormEps, err)
	}
}

// TestConfigNonFinite: NaN, Infinity and -Infinity, which Python's json
// module (so transformers) reads as floats, refused the whole file ("not
// valid JSON") even in a key rlt does not read (initializer_range NaN). A
// key rlt does not read takes them and writes them back as written; one
// it computes with, or a size, is refused at its place. rope_theta 0 or
// negative was read as absent, the 10000 default: refused too.
func TestConfigNonFinite(t *testing.T) {
	for _, c := range []struct{ key, value, want string }{
		{"initializer_range", "NaN", ""},
		{"attention_dropout", "Infinity", ""},
		{"rope_scaling", `{"factor": -Infinity, "type": "default"}`, ""},
		{"note", `"NaN and Infinity"`, ""},
		{"hidden_size", "NaN", ":7:18: hidden_size NaN is not a whole number, no size of a layer: fix the file: write a whole number in digits, such as 896"},
		{"rms_norm_eps", "NaN", ":16:19: rms_norm_eps NaN is not a finite number, and every output computed with it would be NaN: fix the file: write a small positive number, such as 1e-06"},
		{"rope_theta", "Infinity", ":18:17: rope_theta Infinity is not a finite number"},
		{"rope_scaling", `{"rope_theta": -Infinity}`, `:17:34: rope_scaling: rope_theta -Infinity is not a finite number`},
		{"rope_theta", "0", ":18:17: rope_theta 0 is not a positive number: RoPE's frequencies 1/rope_theta^(2i/d) would be infinite or NaN: fix the file: write a positive number, such as 1000000.0 (Qwen2.5's), or remove the key for the default 10000"},
		{"rope_theta", "-1e6", ":18:17: rope_theta -1e6 is not a positive number"},
		{"rope_parameters", `{"rope_theta": 0.0}`, `:2:37: rope_parameters: rope_theta 0.0 is not a positive number`},
		{"eos_token_id", "NaN", ":5:19: eos_token_id NaN is not a number: fix the file: write the id of a token"},
		{"eos_token_id", "[151643, Infinity]", ":5:28: eos_token_id [151643, Infinity]: its item 2, Infinity, is not a number"},
		{"tie_word_embeddings", "NaN", ":20:26: tie_word_embeddings NaN is a number, not true or false"},
		// What Python's json module does not read stays no JSON.
		{"initializer_range", "-NaN", "not valid JSON"},
		{"initializer_range", "nan", "not valid JSON"},
		{"initializer_range", "NaNa", "not valid JSON"},
		{"initializer_range", "1NaN", "not valid JSON"},
	} {
		file := withValue(t, c.key, c.value)
		cfg, err := ParseConfig([]byte(file))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %s: %v", c.key, c.value, err)
		case c.want != "" && (err == nil || !strings.Contains("config.json"+err.Error(), c.want) && !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %s: %v\nwant %s", c.key, c.value, err, c.want)
		case c.want == "":
			// Written back as written, and read back alike.
			if got := string(cfg.Extra[c.key]); got != c.value {
				t.Errorf("%s: Extra holds %s, want %s", c.key, got, c.value)
			}
			path := filepath.Join(t.TempDir(), ConfigFile)
			if err := cfg.Write(path); err != nil {
				t.Fatalf("%s %s: write: %v", c.key, c.value, err)
			}
			data, _ := os.ReadFile(path)
			if !bytes.Contains(data, []byte(`"`+c.key+`": `+strings.ReplaceAll(c.value, `{"factor": -Infinity, "type": "default"}`, "{\n    \"factor\": -Infinity,\n    \"type\": \"default\"\n  }"))) {
				t.Errorf("%s %s: written as\n%s", c.key, c.value, data)
			}
			back, err := ParseConfig(data)
			if err != nil || c.key != "rope_scaling" && string(back.Extra[c.key]) != c.value { // rope_scaling comes back indented
				t.Errorf("%s %s: read back: %s, %v", c.key, c.value, back.Extra[c.key], err)
			}
		}
	}
}

// TestConfigNonFiniteWhereNoValueStands: a NaN, Infinity or -Infinity
// where no value may stand (as a key) is said as written, at its place.
// The stand-in (finiteStandIns) was said instead: {"a":1, NaN :1} read
// "invalid character '0' looking for beginning of object key string".
func TestConfigNonFiniteWhereNoValueStands(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{`{"a":1, NaN :1}`, "line 1, column 9: invalid character 'N' looking for beginning of object key string"},
		{`{"a":1,NaN:1}`, "line 1, column 8: invalid character 'N' looking for beginning of object key string"},
		{"{\"a\": NaN,\n Infinity }", "line 2, column 2: invalid character 'I' looking for beginning of object key string"},
		{`{"a":1, -Infinity :1}`, "line 1, column 9: invalid character '-' looking for beginning of object key string"},
		{`{"a": [1, NaN x]}`, "line 1, column 15: invalid character 'x' after array element"},
	} {
		_, err := ParseConfig([]byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v\nwant %s", c.file, err, c.want)
		}
	}
}
