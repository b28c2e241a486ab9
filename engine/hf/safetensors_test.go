package hf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// stFile builds safetensors bytes from a header string and a data section.
func stFile(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// lie builds safetensors bytes whose header length is off by delta from
// the header's true length, followed by a data section of n 0xff bytes
// (not UTF-8, as float data often is not).
func lie(header string, delta, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = 0xff
	}
	b := stFile(header, data)
	binary.LittleEndian.PutUint64(b, uint64(len(header)+delta))
	return b
}

func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenMalformed(t *testing.T) {
	hugeLen := make([]byte, 8)
	binary.LittleEndian.PutUint64(hugeLen, 200<<20)
	longLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(longLen, 100)
	for _, c := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty file", nil, "file is 0 bytes, too short for the 8-byte header length"},
		{"truncated length", []byte{1, 2, 3}, "file is 3 bytes, too short"},
		{"length larger than file", longLen, "header length 100 is larger than the 8 bytes that follow it"},
		{"header over limit", hugeLen, "header length 209715200 exceeds the 104857600-byte limit"},
		{"header not JSON", stFile("hello, world", nil), `header is not a JSON object (starts with "hello, world")`},
		{"header cut short", stFile(`{"a":{"dtype":"F32"`, nil), `header's JSON ends at key "a" before its object closes: the header length (19, the file's first 8 bytes) is smaller than the JSON`},
		{"header cut short before a key", stFile(`{"a":{},`, nil), `header's JSON ends before its object closes`},
		// A length that lies: a few bytes short ends the JSON early, a few
		// bytes long takes in the start of the data section.
		{"header length too small", lie(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, -3, 4), `header's JSON ends at key "w" before its object closes: the header length (51, the file's first 8 bytes)`},
		{"header length too large", lie(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 3, 4), "header has 3 bytes after the JSON object that are not space padding: the header length (57, the file's first 8 bytes) is larger than the 54-byte object"},
		{"trailing garbage", stFile(`{}xx`, nil), "2 bytes after the JSON object that are not space padding"},
		{"not UTF-8", stFile("{\"\xff\":1}", nil), "not valid UTF-8: byte 2 of the header is 0xff"},
		{"bad JSON", stFile(`{"w":{"dtype":F32}}`, nil), `header is not JSON at key "w": invalid character 'F' looking for beginning of value`},
		{"unknown dtype", stFile(`{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)), `tensor "w": unknown dtype "F128"`},
		{"dtype in lower case", stFile(`{"w":{"dtype":"bf16","shape":[1],"data_offsets":[0,2]}}`, make([]byte, 2)), `tensor "w": unknown dtype "bf16": safetensors writes it "BF16"`},
		{"dtype of another case", stFile(`{"w":{"dtype":"f8_e4m3","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `tensor "w": unknown dtype "f8_e4m3": safetensors writes it "F8_E4M3"`},
		{"missing dtype", stFile(`{"w":{"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": no dtype`},
		{"missing shape", stFile(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": no shape`},
		{"missing offsets", stFile(`{"w":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), `tensor "w": no data_offsets`},
		{"entry not object", stFile(`{"w":[1,2]}`, nil), `tensor "w": entry must be an object`},
		{"shape of strings", stFile(`{"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "w": entry must be an object with dtype, shape and data_offsets: shape: found a JSON string`},
		{"negative dim", stFile(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": shape [-1] has an invalid dimension -1`},
		{"three offsets", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4)), "data_offsets has 3 values"},
		{"decreasing offsets", stFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, make([]byte, 4)), "not an increasing pair"},
		{"shape size mismatch", stFile(`{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}`, make([]byte, 12)), `tensor "w": data_offsets [0 12] span 12 bytes but dtype F32 and shape [2 2] need 16`},
		// Offsets that would tile the data were it all there: the file was
		// cut short (8 + the 54-byte header + 4 bytes of the 8). It was
		// 'data_offsets [0 8] reach past the data section'.
		{"cut short", stFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4)), `the file is cut short: 66 bytes, the header needs 70 (an interrupted write, download or copy?)`},
		{"cut short, two tensors", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 6)),
			`the file is cut short: 122 bytes, the header needs 128`},
		// Offsets that would not tile it anyway are the header's fault.
		{"out of range", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, make([]byte, 12)), `tensor "b": data_offsets [8 16] reach past the data section, which is 12 bytes`},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), `tensor "b": data_offsets [4 12] overlap tensor "a", which ends at 8`},
		{"hole", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)), `tensor "b": data_offsets [8 12] leave a hole of 4 bytes after offset 4`},
		{"data not covered", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 12)), "tensors cover 4 bytes of data but the data section is 12 bytes"},
		{"duplicate tensor", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `key "a" appears twice`},
		{"metadata not strings", stFile(`{"__metadata__":{"format":1}}`, nil), `__metadata__ must be an object of strings: key "format" is a number 1`},
		{"metadata not object", stFile(`{"__metadata__":[1]}`, nil), "__metadata__ must be an object of strings, found a list [1]"},
		{"huge shape", stFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), "has too many elements"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeTemp(t, "x.safetensors", c.content)
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded, want an error containing %q", c.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, p) {
				t.Errorf("error %q\nwant it to contain %q and the path", msg, c.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q does not wrap ErrMalformed", msg)
			}
		})
	}
}

// TestHeaderKeysAreCaseSensitive: a tensor entry's key in another case
// ("DTYPE"), which encoding/json took for the key, is refused, naming the
// file, the tensor, the key found and the key to write, as the safetensors
// library (serde, keys matched exactly) refuses the file; and so is
// "__METADATA__", which it reads as a tensor's name. A tensor named like a
// key, in any case, is a tensor, there and here.
func TestHeaderKeysAreCaseSensitive(t *testing.T) {
	for _, c := range []struct {
		name, header string
		data         int
		want         string // "": opens
	}{
		{"dtype", `{"w":{"DTYPE":"F32","shape":[1],"data_offsets":[0,4]}}`, 4,
			`tensor "w": "DTYPE" is not a field: the field is "dtype" (field names are case-sensitive): write it "dtype", as safetensors reads it`},
		{"shape", `{"w":{"dtype":"F32","Shape":[1],"data_offsets":[0,4]}}`, 4, `tensor "w": "Shape" is not a field: the field is "shape"`},
		{"offsets", `{"w":{"dtype":"F32","shape":[1],"Data_Offsets":[0,4]}}`, 4, `tensor "w": "Data_Offsets" is not a field: the field is "data_offsets"`},
		{"both spellings", `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"dType":"BF16"}}`, 4, `tensor "w": "dType" is not a field: the field is "dtype"`},
		{"escaped", `{"w":{"dtyp\u0045":"F32","shape":[1],"data_offsets":[0,4]}}`, 4, `tensor "w": "dtypE" is not a field`},
		{"metadata", `{"__METADATA__":{"format":"pt"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4,
			`"__METADATA__" is not a field: the field is "__metadata__" (field names are case-sensitive): write it "__metadata__", as safetensors reads it (it reads "__METADATA__" as a tensor's name)`},
		{"tensors named like keys", `{"DTYPE":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__Metadata__":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeTemp(t, "x.safetensors", stFile(c.header, make([]byte, c.data)))
			f, err := Open(p)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded, want an error containing %q", c.want)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, p) || !errors.Is(err, ErrMalformed) {
				t.Errorf("error %q\nwant it to contain %q and the path, and to wrap ErrMalformed", msg, c.want)
			}
		})
	}
}

func TestOpenValidEdgeCases(t *testing.T) {
	for _, c := range []struct {
		name, header string
		data         int
	}{
		{"empty header object", `{}`, 0},
		{"only metadata", `{"__metadata__":{"format":"pt"}}   `, 0},
		{"zero-size tensors share an offset", `{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"BF16","shape":[2,0],"data_offsets":[4,4]}}`, 4},
		{"scalar", `{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, 8},
		{"unconvertible but known dtypes", `{"a":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[3,4]}}`, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Open(writeTemp(t, "x.safetensors", stFile(c.header, make([]byte, c.data))))
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		})
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.safetensors")
	err := WriteSafetensors(p, []NamedTensor{{"w", []int{2, 2}, []float32{1, 2, 3, 4}}}, F32, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip := writeTemp(t, "i.safetensors", stFile(`{"big":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}`,
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 5), 1<<40)))
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := Open(ip)
	if err != nil {
		t.Fatal(err)
	}
	defer fi.Close()
	for _, c := range []struct {
		name string
		err  error
		want string
		is   error
	}{
		{"missing tensor", f.ReadFloat32("nope", make([]float32, 4)), p + `: tensor "nope": no such tensor`, ErrNotFound},
		{"dst too short", f.ReadFloat32("w", make([]float32, 3)), p + `: tensor "w": destination has 3 elements but the tensor has 4 (shape [2 2])`, nil},
		{"dst too long", f.ReadInt32("w", make([]int32, 5)), `destination has 5 elements but the tensor has 4`, nil},
		{"float as int", f.ReadInt32("w", make([]int32, 4)), `tensor "w": dtype F32 cannot be read as int32 (want I32 or I64)`, nil},
		{"float as int64", f.ReadInt64("w", make([]int64, 4)), `dtype F32 cannot be read as int64`, nil},
		{"int as float", fi.ReadFloat32("big", make([]float32, 2)), `tensor "big": dtype I64 cannot be read as float32`, nil},
		{"int64 overflow", fi.ReadInt32("big", make([]int32, 2)), `tensor "big": element 1 is 1099511627776, which does not fit in int32`, nil},
	} {
		if c.err == nil {
			t.Errorf("%s: no error, want %q", c.name, c.want)
			continue
		}
		if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to contain %q", c.name, c.err, c.want)
		}
		if c.is != nil && !errors.Is(c.err, c.is) {
			t.Errorf("%s: error %q does not wrap %v", c.name, c.err, c.is)
		}
	}

	// A file truncated after it was opened fails on read, not with garbage.
	if err := os.Truncate(p, 20); err != nil {
		t.Fatal(err)
	}
	err = f.ReadFloat32("w", make([]float32, 4))
	if err == nil || !strings.Contains(err.Error(), "unexpected EOF") || !strings.Contains(err.Error(), `tensor "w"`) {
		t.Errorf("read of truncated file: %v", err)
	}
}

func specialFloats() []float32 {
	var v []float32
	for _, b := range []uint32{0, 0x80000000, 1, 0x8000, 0x18000, 0x7fffff, 0x800000, 0x3f808000, 0x3f818000,
		0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc12345} {
		v = append(v, math.Float32frombits(b))
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// Sizes straddle the 1 MiB read chunk: 300000 BF16 elements are 600 KB,
	// 700000 F32 elements 2.8 MB.
	sizes := map[string][]int{"a.scalar": nil, "b.empty": {0, 5}, "c.special": {15}, "d.small": {3, 7},
		"e.chunky": {700, 1000}, "f.odd": {1, 300001}}
	var ts []NamedTensor
	for name, shape := range sizes {
		n, _ := numElements(shape, math.MaxInt64)
		data := make([]float32, n)
		for i := range data {
			data[i] = math.Float32frombits(r.Uint32())
			if i%3 == 0 {
				data[i] = float32(r.NormFloat64())
			}
		}
		if name == "c.special" {
			copy(data, specialFloats())
		}
		ts = append(ts, NamedTensor{name, shape, data})
	}
	for _, dt := range []DType{F32, BF16} {
		t.Run(string(dt), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "m.safetensors")
			if err := WriteSafetensors(p, ts, dt, map[string]string{"note": "hi"}); err != nil {
				t.Fatal(err)
			}
			f, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if md := f.Metadata(); md["format"] != "pt" || md["note"] != "hi" {
				t.Errorf("metadata %v", md)
			}
			for _, nt := range ts {
				ti, ok := f.Tensor(nt.Name)
				if !ok || ti.DType != dt || !slices.Equal(ti.Shape, nt.Shape) && len(nt.Shape)+len(ti.Shape) > 0 {
					t.Fatalf("%s: info %+v", nt.Name, ti)
				}
				got := make([]float32, len(nt.Data))
				if err := f.ReadFloat32(nt.Name, got); err != nil {
					t.Fatal(err)
				}
				for i, v := range nt.Data {
					want := math.Float32bits(v)
					if dt == BF16 {
						if isNaN32(v) {
							if !isNaN32(got[i]) {
								t.Fatalf("%s[%d]: NaN became %v", nt.Name, i, got[i])
							}
							continue
						}
						ref, _ := refBF16(v)
						want = uint32(ref) << 16
					}
					if math.Float32bits(got[i]) != want {
						t.Fatalf("%s[%d]: wrote %#08x, read %#08x, want %#08x", nt.Name, i, math.Float32bits(v), math.Float32bits(got[i]), want)
					}
				}
			}
		})
	}
}

// A header we write is sorted, carries __metadata__ first and is padded
// with spaces to 8 bytes.
func TestWrittenHeaderLayout(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	ts := []NamedTensor{{"z", []int{1}, []float32{1}}, {"a", []int{3}, []float32{1, 2, 3}}, {"m", []int{}, []float32{5}}}
	if err := WriteSafetensors(p, ts, BF16, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
	h := string(b[8 : 8+n])
	want := `{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"m":{"dtype":"BF16","shape":[],"data_offsets":[6,8]},"z":{"dtype":"BF16","shape":[1],"data_offsets":[8,10]}}`
	if strings.TrimRight(h, " ") != want || len(h)-len(want) >= 8 {
		t.Errorf("header\n%q\nwant\n%q plus <8 spaces", h, want)
	}
	if got := len(b) - 8 - int(n); got != 10 {
		t.Errorf("data section %d bytes, want 10", got)
	}
}

func TestConcurrentReads(t *testing.T) {
	c := tinyConfig()
	ts := tinyTensors(c)
	dir := t.TempDir()
	if _, err := WriteSafetensorsSharded(dir, ts, BF16, nil, 800); err != nil {
		t.Fatal(err)
	}
	fo, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	var wg sync.WaitGroup
	errs := make(chan error, len(ts)*4)
	for range 4 {
		for _, nt := range ts {
			wg.Go(func() {
				got := make([]float32, len(nt.Data))
				if err := fo.ReadFloat32(nt.Name, got); err != nil {
					errs <- err
					return
				}
				for i := range got {
					if got[i] != BF16ToFloat32(Float32ToBF16(nt.Data[i])) {
						errs <- fmt.Errorf("%s[%d] = %v", nt.Name, i, got[i])
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
