package hf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"reflect"
	"testing"
)

func FuzzSafetensorsHeader(f *testing.F) {
	if b, err := os.ReadFile("testdata/torch_tiny/model.safetensors"); err == nil {
		f.Add(b)
	}
	f.Add(stFile(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}`, make([]byte, 6)))
	f.Add(stFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}  `, make([]byte, 8)))
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)))
	f.Add(stFile(`{}`, nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		h, err := parseHeader(r, int64(len(data)))
		if err != nil {
			return
		}
		// Invariants of an accepted header: ranges tile the data section.
		var total int64
		for _, ti := range h.tensors {
			if ti.begin < 8 || ti.end > int64(len(data)) || ti.end-ti.begin != int64(ti.NumElements()*ti.DType.Size()) {
				t.Fatalf("accepted bad range %+v in a %d-byte file", ti, len(data))
			}
			total += ti.end - ti.begin
			n := ti.NumElements()
			switch {
			case ti.DType.IsFloat():
				if err := readFloat32(r, ti, make([]float32, n)); err != nil {
					t.Fatalf("read %s: %v", ti.Name, err)
				}
			case ti.DType == I32 || ti.DType == I64:
				if err := readInt64(r, ti, make([]int64, n)); err != nil {
					t.Fatalf("read %s: %v", ti.Name, err)
				}
			}
		}
		dataStart := 8 + int64(binary.LittleEndian.Uint64(data))
		if total != int64(len(data))-dataStart {
			t.Fatalf("tensors cover %d bytes of a %d-byte data section", total, int64(len(data))-dataStart)
		}
	})
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte(qwenConfig))
	if b, err := os.ReadFile("testdata/torch_tiny/config.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "rope_parameters": {"rope_theta": 10.0}, "eos_token_id": [1, 2]}`))
	f.Add([]byte(`{"vocab_size": 8.0, "hidden_size": "8", "rope_scaling": {"type": "yarn"}}`))
	f.Add([]byte(`[]`))
	// Python's non-finite words, taken where rlt does not read them and
	// written back as written.
	f.Add([]byte(`{"vocab_size":8,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"initializer_range":NaN,` +
		`"x":[Infinity,-Infinity,{"y":NaN}],"s":"NaN\"NaN\\","rope_parameters":{"rope_theta":10.0,"f":-Infinity}}`))
	// Found by this fuzzer: an empty list was dropped on write-back.
	f.Add([]byte(`{"vocab_size":10,"hidden_size":10,"intermediate_size":10,"num_hidden_layers":10,"num_attention_heads":10,"bos_token_id":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		_ = c.Validate()
		_ = Qwen2Tensors(Config{}) // must not panic on zero values
		if c.Validate() == nil && c.NumHiddenLayers < 1000 {
			_ = Qwen2Tensors(c)
		}
		// What we write parses back to the same fields.
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		c.Extra, back.Extra = nil, nil
		if math.IsNaN(c.RopeTheta) || math.IsInf(c.RopeTheta, 0) {
			return
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v\n%s", c, back, out)
		}
	})
}
