package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// MaxHeaderBytes bounds the JSON header of a safetensors file (the reference
// implementation uses the same limit). Real headers are a few hundred KB.
const MaxHeaderBytes = 100 << 20

// chunkBytes is the size of the staging buffer used to convert tensor data
// while streaming it from disk.
const chunkBytes = 1 << 20

// ErrMalformed is wrapped by every error about a file that breaks the
// safetensors format; test with errors.Is.
var ErrMalformed = errors.New("malformed safetensors")

// ErrNotFound is wrapped by errors about a tensor that a file or folder lacks.
var ErrNotFound = errors.New("no such tensor")

// TensorInfo describes one tensor of a safetensors file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	// File is the path of the safetensors file that holds the tensor.
	File string

	begin, end int64 // absolute byte range in File
}

// NumElements is the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n, _ := numElements(t.Shape, math.MaxInt64)
	return int(n)
}

// Bytes is the size of the tensor's data in the file.
func (t TensorInfo) Bytes() int64 { return t.end - t.begin }

// File is an open safetensors file. Its header has been validated; tensor
// data is read on demand with positioned reads, so one File may serve
// several goroutines at once.
type File struct {
	path     string
	f        io.ReaderAt
	closer   io.Closer    // nil for OpenBytes
	tensors  []TensorInfo // sorted by name
	byName   map[string]int
	metadata map[string]string
}

// Open opens and validates a safetensors file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open safetensors: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open safetensors %s: is a directory (use OpenFolder for a model folder)", path)
	}
	sf, err := newFile(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.closer = f
	return sf, nil
}

// OpenBytes validates the contents of a safetensors file held in memory,
// named path in messages: what Open does with the bytes of the file.
func OpenBytes(path string, data []byte) (*File, error) {
	return newFile(path, bytes.NewReader(data), int64(len(data)))
}

func newFile(path string, r io.ReaderAt, size int64) (*File, error) {
	h, err := parseHeader(r, size)
	if err != nil {
		return nil, fmt.Errorf("open safetensors %s: %w", path, err)
	}
	sf := &File{path: path, f: r, tensors: h.tensors, metadata: h.metadata, byName: make(map[string]int, len(h.tensors))}
	for i := range sf.tensors {
		sf.tensors[i].File = path
		sf.byName[sf.tensors[i].Name] = i
	}
	return sf, nil
}

// Path is the file's path as given to Open.
func (f *File) Path() string { return f.path }

// Tensors lists the file's tensors sorted by name. The slice is a copy.
func (f *File) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(f.tensors))
	copy(out, f.tensors)
	return out
}

// Tensor looks up one tensor by name.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// Metadata returns the header's __metadata__ strings (nil when absent).
func (f *File) Metadata() map[string]string { return f.metadata }

// Close closes the file.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

func (f *File) lookup(name string) (TensorInfo, error) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, fmt.Errorf("read %s: tensor %q: %w (the file has %d tensors)", f.path, name, ErrNotFound, len(f.tensors))
	}
	return f.tensors[i], nil
}

// ReadFloat32 reads tensor name into dst, converting from F32, BF16, F16 or
// F64. len(dst) must equal the tensor's number of elements.
func (f *File) ReadFloat32(name string, dst []float32) error {
	t, err := f.lookup(name)
	if err != nil {
		return err
	}
	if err := checkDst(t, len(dst)); err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	if err := readFloat32(f.f, t, dst); err != nil {
		return fmt.Errorf("read %s: tensor %q: %w", f.path, name, err)
	}
	return nil
}

// ReadFloat32At reads the elements [first, first+len(dst)) of tensor name,
// in its row-major order, into dst, converting as ReadFloat32 does: a
// large tensor read a part at a time (a model's load does, to heed a stop
// between parts) holds, once every part is read, what ReadFloat32 reads.
func (f *File) ReadFloat32At(name string, first int, dst []float32) error {
	t, err := f.lookupPart(name, first, len(dst))
	if err != nil {
		return err
	}
	if err := readFloat32(f.f, t, dst); err != nil {
		return fmt.Errorf("read %s: tensor %q: %w", f.path, name, err)
	}
	return nil
}

// ReadBits16 reads a BF16 or F16 tensor's bit patterns into dst as stored,
// with no conversion (a frozen 16-bit weight is kept so).
func (f *File) ReadBits16(name string, dst []uint16) error {
	t, err := f.lookup(name)
	if err != nil {
		return err
	}
	if err := checkDst(t, len(dst)); err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	return f.readBits16(t, dst)
}

// ReadBits16At reads the elements [first, first+len(dst)) of a BF16 or F16
// tensor's bit patterns into dst as stored (ReadBits16 a part at a time).
func (f *File) ReadBits16At(name string, first int, dst []uint16) error {
	t, err := f.lookupPart(name, first, len(dst))
	if err != nil {
		return err
	}
	return f.readBits16(t, dst)
}

// lookupPart is the part of tensor name that ReadFloat32At and
// ReadBits16At read: its n elements from first, refused where they are
// not within it.
func (f *File) lookupPart(name string, first, n int) (TensorInfo, error) {
	t, err := f.lookup(name)
	if err != nil {
		return TensorInfo{}, err
	}
	if err := checkPart(t, first, n); err != nil {
		return TensorInfo{}, fmt.Errorf("read %s: %w", f.path, err)
	}
	return t.part(first, n), nil
}

// readBits16 reads t (a tensor, or a part of one) into dst.
func (f *File) readBits16(t TensorInfo, dst []uint16) error {
	if t.DType != BF16 && t.DType != F16 {
		return fmt.Errorf("read %s: tensor %q is %s, not a 16-bit float type (BF16 or F16)", f.path, t.Name, t.DType)
	}
	if littleEndianHost && len(dst) > 0 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 2*len(dst))
		if _, err := f.f.ReadAt(b, t.begin); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read %s: tensor %q: reading bytes [%d, %d): %w", f.path, t.Name, t.begin, t.end, err)
		}
		return nil
	}
	return streamChunks(f.f, t, func(raw []byte, first int) error {
		d := dst[first : first+len(raw)/2]
		for i := range d {
			d[i] = binary.LittleEndian.Uint16(raw[2*i:])
		}
		return nil
	})
}

// ReadInt32 reads an I32 or I64 tensor into dst; I64 values must fit int32.
func (f *File) ReadInt32(name string, dst []int32) error {
	t, err := f.lookup(name)
	if err != nil {
		return err
	}
	if err := checkDst(t, len(dst)); err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	if err := readInt32(f.f, t, dst); err != nil {
		return fmt.Errorf("read %s: tensor %q: %w", f.path, name, err)
	}
	return nil
}

// ReadInt64 reads an I64 or I32 tensor into dst.
func (f *File) ReadInt64(name string, dst []int64) error {
	t, err := f.lookup(name)
	if err != nil {
		return err
	}
	if err := checkDst(t, len(dst)); err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	if err := readInt64(f.f, t, dst); err != nil {
		return fmt.Errorf("read %s: tensor %q: %w", f.path, name, err)
	}
	return nil
}

func checkDst(t TensorInfo, n int) error {
	if want := t.NumElements(); n != want {
		return fmt.Errorf("tensor %q: destination has %d elements but the tensor has %d (shape %v)", t.Name, n, want, t.Shape)
	}
	return nil
}

// checkPart checks that the n elements from first are within t.
func checkPart(t TensorInfo, first, n int) error {
	if all := t.NumElements(); first < 0 || n < 0 || first > all-n {
		return fmt.Errorf("tensor %q: elements [%d, %d) are not within its %d (shape %v)", t.Name, first, first+n, all, t.Shape)
	}
	return nil
}

// part is t's n elements from first: what streamChunks and the direct
// reads read of t, and nothing else.
func (t TensorInfo) part(first, n int) TensorInfo {
	size := int64(t.DType.Size())
	t.begin += int64(first) * size
	t.end = t.begin + int64(n)*size
	return t
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkBytes); return &b }}

var littleEndianHost = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// streamChunks reads t's bytes in chunks of whole elements and hands each to
// fn together with the index of its first element.
func streamChunks(r io.ReaderAt, t TensorInfo, fn func(raw []byte, first int) error) error {
	size := int64(t.DType.Size())
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	step := int64(len(buf)) / size * size
	for off := t.begin; off < t.end; off += step {
		n := min(step, t.end-off)
		chunk := buf[:n]
		if _, err := r.ReadAt(chunk, off); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading bytes [%d, %d): %w", off, off+n, err)
		}
		if err := fn(chunk, int((off-t.begin)/size)); err != nil {
			return err
		}
	}
	return nil
}

func readFloat32(r io.ReaderAt, t TensorInfo, dst []float32) error {
	switch t.DType {
	case F32:
		if littleEndianHost && len(dst) > 0 {
			// The file's bytes are dst's bytes: read straight into it.
			b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst))
			if _, err := r.ReadAt(b, t.begin); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("reading bytes [%d, %d): %w", t.begin, t.end, err)
			}
			return nil
		}
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/4]
			for i := range d {
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			return nil
		})
	case BF16:
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/2]
			if littleEndianHost {
				s := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(raw))), len(d))
				for i, v := range s {
					d[i] = math.Float32frombits(uint32(v) << 16)
				}
				return nil
			}
			raw = raw[:2*len(d)]
			for i := range d {
				d[i] = math.Float32frombits(uint32(raw[2*i])<<16 | uint32(raw[2*i+1])<<24)
			}
			return nil
		})
	case F16:
		table := f16Table()
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/2]
			raw = raw[:2*len(d)]
			for i := range d {
				d[i] = table[uint16(raw[2*i])|uint16(raw[2*i+1])<<8]
			}
			return nil
		})
	case F64:
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/8]
			for i := range d {
				d[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			}
			return nil
		})
	}
	return fmt.Errorf("dtype %s cannot be read as float32 (want F32, BF16, F16 or F64)", t.DType)
}

func readInt32(r io.ReaderAt, t TensorInfo, dst []int32) error {
	switch t.DType {
	case I32:
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/4]
			for i := range d {
				d[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			return nil
		})
	case I64:
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/8]
			for i := range d {
				v := int64(binary.LittleEndian.Uint64(raw[8*i:]))
				if v < math.MinInt32 || v > math.MaxInt32 {
					return fmt.Errorf("element %d is %d, which does not fit in int32", first+i, v)
				}
				d[i] = int32(v)
			}
			return nil
		})
	}
	return fmt.Errorf("dtype %s cannot be read as int32 (want I32 or I64)", t.DType)
}

func readInt64(r io.ReaderAt, t TensorInfo, dst []int64) error {
	switch t.DType {
	case I64:
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/8]
			for i := range d {
				d[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
			return nil
		})
	case I32:
		return streamChunks(r, t, func(raw []byte, first int) error {
			d := dst[first : first+len(raw)/4]
			for i := range d {
				d[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			}
			return nil
		})
	}
	return fmt.Errorf("dtype %s cannot be read as int64 (want I64 or I32)", t.DType)
}

// f16Table maps every half bit pattern to its float32 (256 KB, built on
// first use): a lookup is faster than F16ToFloat32's branches.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = F16ToFloat32(uint16(i))
	}
	return &t
})

// header is a parsed, validated safetensors header.
type header struct {
	tensors  []TensorInfo // sorted by name, absolute offsets
	metadata map[string]string
}

type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// entryKeys are a tensor entry's keys.
var entryKeys = jsonerr.FieldNames(reflect.TypeFor[rawEntry]())

// metadataKey is the header's key of its metadata, the one key not a
// tensor's name.
const metadataKey = "__metadata__"

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// parseHeader reads and validates the header of a safetensors file of the
// given size. Errors do not carry the path; the caller adds it.
func parseHeader(r io.ReaderAt, size int64) (*header, error) {
	if size < 8 {
		return nil, malformed("file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("reading header length: %w", err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > MaxHeaderBytes {
		return nil, malformed("header length %d exceeds the %d-byte limit", hlen, MaxHeaderBytes)
	}
	if int64(hlen) > size-8 {
		return nil, malformed("header length %d is larger than the %d bytes that follow it (file truncated?)", hlen, size-8)
	}
	if hlen < 2 {
		return nil, malformed("header length %d is too short for a JSON object", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := r.ReadAt(hb, 8); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	dataStart := 8 + int64(hlen)
	dataLen := size - dataStart
	h, err := decodeHeader(hb, dataStart, dataLen)
	if err != nil {
		return nil, err
	}
	return h, nil
}

func decodeHeader(hb []byte, dataStart, dataLen int64) (*header, error) {
	if hb[0] != '{' {
		return nil, malformed("header is not a JSON object (starts with %q)", preview(hb))
	}
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, headerJSONError(hb, "", err)
	}
	// The object is read whole, and its length and text checked, before
	// any entry is: a header length that lies shifts the data section, so
	// an entry's offsets are judged only against a header known to be
	// whole.
	type entry struct {
		name string
		raw  json.RawMessage
	}
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, headerJSONError(hb, "", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, malformed("header is not JSON: unexpected %v", tok)
		}
		if seen[name] {
			return nil, malformed("key %q appears twice in the header", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, headerJSONError(hb, name, err)
		}
		entries = append(entries, entry{name, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, headerJSONError(hb, "", err)
	}
	// Only padding may follow the object.
	end := dec.InputOffset()
	rest := hb[end:]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, malformed("header has %d bytes after the JSON object that are not space padding: the header length (%d, the file's first 8 bytes) is larger than the %d-byte object, so the length is wrong or the header was damaged", len(rest), len(hb), end)
	}
	if i := invalidUTF8(hb[:end]); i >= 0 {
		return nil, malformed("header is not valid UTF-8: byte %d of the header is %#02x", i, hb[i])
	}
	h := &header{tensors: make([]TensorInfo, 0, len(entries))}
	for _, e := range entries {
		if e.name == metadataKey {
			md, err := decodeMetadata(e.raw)
			if err != nil {
				return nil, err
			}
			h.metadata = md
			continue
		}
		// Bounded by what an offset can be, not by the data there is: a
		// file cut short is told by the layout below.
		t, err := decodeEntry(e.name, e.raw, math.MaxInt64-dataStart)
		if field, ok := jsonerr.FoldedName(e.name, []string{metadataKey}); err != nil && ok {
			// The safetensors library reads it as a tensor, which it is not.
			return nil, malformed("%v: write it %q, as safetensors reads it (it reads %q as a tensor's name)", &jsonerr.CaseMiss{Key: e.name, Field: field}, field, e.name)
		}
		if err != nil {
			return nil, err
		}
		t.begin += dataStart
		t.end += dataStart
		h.tensors = append(h.tensors, t)
	}
	// Tensors that tile more data than the file holds, and would tile it
	// exactly were it all there, are a file cut short (an interrupted
	// write, download or copy), not a header whose offsets are wrong.
	var need int64
	for _, t := range h.tensors {
		need = max(need, t.end-dataStart)
	}
	if need > dataLen && checkLayout(h.tensors, dataStart, need) == nil {
		return nil, malformed("the file is cut short: %d bytes, the header needs %d (an interrupted write, download or copy?)", dataStart+dataLen, dataStart+need)
	}
	if err := checkLayout(h.tensors, dataStart, dataLen); err != nil {
		return nil, err
	}
	sort.Slice(h.tensors, func(i, j int) bool { return h.tensors[i].Name < h.tensors[j].Name })
	return h, nil
}

// headerJSONError says why the header's JSON did not decode, at key (or
// before any key when it is ""): a header that runs out before its object
// closes is one whose stated length is too small, or that was damaged.
func headerJSONError(hb []byte, key string, err error) error {
	at := ""
	if key != "" {
		at = fmt.Sprintf(" at key %q", key)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return malformed("header's JSON ends%s before its object closes: the header length (%d, the file's first 8 bytes) is smaller than the JSON, so the length is wrong or the header was damaged", at, len(hb))
	}
	return malformed("header is not JSON%s: %v", at, strings.TrimPrefix(err.Error(), "json: "))
}

// invalidUTF8 is the offset of the first byte of b that is not valid
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

func decodeMetadata(raw json.RawMessage) (map[string]string, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, malformed("__metadata__ must be an object of strings, found %s", describeJSON(raw))
	}
	md := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, malformed("__metadata__ must be an object of strings: key %q is %s", k, describeJSON(v))
		}
		md[k] = s
	}
	return md, nil
}

func decodeEntry(name string, raw json.RawMessage, dataLen int64) (TensorInfo, error) {
	var e rawEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return TensorInfo{}, malformed("tensor %q: entry must be an object with dtype, shape and data_offsets: %s", name, jsonTypeError(err))
	}
	// encoding/json took a key in another case ("DTYPE") for the field;
	// the safetensors library (serde) matches keys exactly, and would not
	// load the file. raw has decoded: its keys are looked at in one pass.
	if miss := jsonerr.FindCaseMissValid(raw, entryKeys); miss != nil {
		return TensorInfo{}, malformed("tensor %q: %v: write it %q, as safetensors reads it", name, miss, miss.Field)
	}
	switch {
	case e.DType == nil:
		return TensorInfo{}, malformed("tensor %q: no dtype", name)
	case e.Shape == nil:
		return TensorInfo{}, malformed("tensor %q: no shape", name)
	case e.DataOffsets == nil:
		return TensorInfo{}, malformed("tensor %q: no data_offsets", name)
	}
	dt := DType(*e.DType)
	if !dt.Valid() {
		// safetensors spells its types in capitals; a writer that wrote
		// "bf16" (PyTorch's spelling) gets the one to write.
		if up := DType(strings.ToUpper(*e.DType)); up.Valid() {
			return TensorInfo{}, malformed("tensor %q: unknown dtype %q: safetensors writes it %q", name, *e.DType, up)
		}
		return TensorInfo{}, malformed("tensor %q: unknown dtype %q", name, *e.DType)
	}
	shape := make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 {
			return TensorInfo{}, malformed("tensor %q: shape %v has an invalid dimension %d", name, *e.Shape, d)
		}
		shape[i] = int(d)
	}
	offs := *e.DataOffsets
	if len(offs) != 2 {
		return TensorInfo{}, malformed("tensor %q: data_offsets has %d values, want [begin, end]", name, len(offs))
	}
	if offs[0] < 0 || offs[1] < offs[0] {
		return TensorInfo{}, malformed("tensor %q: data_offsets %v are not an increasing pair of non-negative offsets", name, offs)
	}
	if offs[1] > dataLen {
		return TensorInfo{}, malformed("tensor %q: data_offsets %v reach past the data section, which is %d bytes", name, offs, dataLen)
	}
	n, ok := numElements(shape, math.MaxInt64/8)
	if !ok {
		return TensorInfo{}, malformed("tensor %q: shape %v has too many elements", name, shape)
	}
	if want := n * int64(dt.Size()); offs[1]-offs[0] != want {
		return TensorInfo{}, malformed("tensor %q: data_offsets %v span %d bytes but dtype %s and shape %v need %d", name, offs, offs[1]-offs[0], dt, shape, want)
	}
	return TensorInfo{Name: name, DType: dt, Shape: shape, begin: offs[0], end: offs[1]}, nil
}

// checkLayout requires the tensors' byte ranges to tile the data section
// exactly: inside it, without overlaps and without holes.
func checkLayout(ts []TensorInfo, dataStart, dataLen int64) error {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ta, tb := ts[order[a]], ts[order[b]]
		if ta.begin != tb.begin {
			return ta.begin < tb.begin
		}
		return ta.end < tb.end
	})
	pos := dataStart
	prev := ""
	for _, i := range order {
		t := ts[i]
		rel := [2]int64{t.begin - dataStart, t.end - dataStart}
		if rel[1] > dataLen {
			return malformed("tensor %q: data_offsets %v reach past the data section, which is %d bytes", t.Name, rel, dataLen)
		}
		if t.begin < pos {
			return malformed("tensor %q: data_offsets %v overlap tensor %q, which ends at %d", t.Name, rel, prev, pos-dataStart)
		}
		if t.begin > pos {
			return malformed("tensor %q: data_offsets %v leave a hole of %d bytes after offset %d", t.Name, rel, t.begin-pos, pos-dataStart)
		}
		pos = t.end
		prev = t.Name
	}
	if pos-dataStart != dataLen {
		return malformed("tensors cover %d bytes of data but the data section is %d bytes", pos-dataStart, dataLen)
	}
	return nil
}

func preview(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

// jsonTypeError shortens encoding/json's messages, which name Go types.
func jsonTypeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := te.Field
		if f == "" {
			return fmt.Sprintf("found a JSON %s", te.Value)
		}
		return fmt.Sprintf("%s: found a JSON %s", f, te.Value)
	}
	return err.Error()
}
