package hf

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// NamedTensor is a float32 tensor to be written.
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// IndexFile is the name of the index of a sharded checkpoint.
const IndexFile = "model.safetensors.index.json"

// WeightsFile is the name of a single-file checkpoint.
const WeightsFile = "model.safetensors"

// WriteSafetensors writes tensors to path as dtype (F32 or BF16; BF16 rounds
// to nearest even). The header lists tensors sorted by name, with the data in
// the same order, and always carries __metadata__ with "format": "pt" (extra
// metadata entries are added to it). The file is written atomically.
func WriteSafetensors(path string, tensors []NamedTensor, dtype DType, metadata map[string]string) error {
	hdr, ts, err := prepare(tensors, dtype, metadata)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error { return encodeSorted(w, hdr, ts, dtype) })
}

// EncodeSafetensors writes to w what WriteSafetensors writes to a file.
func EncodeSafetensors(w io.Writer, tensors []NamedTensor, dtype DType, metadata map[string]string) error {
	hdr, ts, err := prepare(tensors, dtype, metadata)
	if err != nil {
		return err
	}
	return encodeSorted(w, hdr, ts, dtype)
}

// prepare checks the tensors and dtype and returns the header and the
// tensors sorted by name.
func prepare(tensors []NamedTensor, dtype DType, metadata map[string]string) ([]byte, []NamedTensor, error) {
	if dtype != F32 && dtype != BF16 {
		return nil, nil, fmt.Errorf("dtype %s cannot be written (want F32 or BF16)", dtype)
	}
	ts, err := sortedTensors(tensors)
	if err != nil {
		return nil, nil, err
	}
	hdr, err := buildHeader(ts, dtype, metadata)
	if err != nil {
		return nil, nil, err
	}
	return hdr, ts, nil
}

// encodeSorted writes the preamble with header hdr and the data of ts.
func encodeSorted(w io.Writer, hdr []byte, ts []NamedTensor, dtype DType) error {
	if err := writePreamble(w, hdr); err != nil {
		return err
	}
	buf := make([]byte, chunkBytes)
	for _, t := range ts {
		if err := encodeTensor(w, buf, t.Data, dtype); err != nil {
			return fmt.Errorf("tensor %q: %w", t.Name, err)
		}
	}
	return nil
}

// sortedTensors checks names, shapes and lengths and returns the tensors
// sorted by name.
func sortedTensors(tensors []NamedTensor) ([]NamedTensor, error) {
	ts, err := sortedNames(tensors)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		n, ok := numElements(t.Shape, math.MaxInt64/8)
		if !ok {
			return nil, fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
		}
		if int64(len(t.Data)) != n {
			return nil, fmt.Errorf("tensor %q: shape %v has %d elements but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	return ts, nil
}

// sortedNames returns the tensors sorted by name, checking the names.
func sortedNames(tensors []NamedTensor) ([]NamedTensor, error) {
	ts := make([]NamedTensor, len(tensors))
	copy(ts, tensors)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	for i, t := range ts {
		switch {
		case t.Name == "":
			return nil, errors.New("a tensor has an empty name")
		case t.Name == "__metadata__":
			return nil, errors.New(`a tensor is named "__metadata__", which the format reserves`)
		case !utf8.ValidString(t.Name):
			return nil, fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
		case i > 0 && ts[i-1].Name == t.Name:
			return nil, fmt.Errorf("tensor %q appears twice", t.Name)
		}
	}
	return ts, nil
}

// buildHeader renders the JSON header, padded with spaces to a multiple of 8
// bytes so the data section starts aligned.
func buildHeader(ts []NamedTensor, dtype DType, metadata map[string]string) ([]byte, error) {
	offsets := make(map[string][2]int64, len(ts))
	off := int64(0)
	for _, t := range ts {
		end := off + int64(len(t.Data))*int64(dtype.Size())
		offsets[t.Name] = [2]int64{off, end}
		off = end
	}
	return renderHeader(ts, dtype, metadata, func(name string) [2]int64 { return offsets[name] })
}

// renderHeader writes the header of ts (in the order given) with each
// tensor's data at span(name).
func renderHeader(ts []NamedTensor, dtype DType, metadata map[string]string, span func(name string) [2]int64) ([]byte, error) {
	meta := map[string]string{"format": "pt"}
	for k, v := range metadata {
		meta[k] = v
	}
	mb, err := json.Marshal(meta) // map keys come out sorted
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	sb.WriteString(`{"__metadata__":`)
	sb.Write(mb)
	for _, t := range ts {
		nb, _ := json.Marshal(t.Name)
		sp := span(t.Name)
		off, end := sp[0], sp[1]
		sb.WriteByte(',')
		sb.Write(nb)
		sb.WriteString(`:{"dtype":"`)
		sb.WriteString(string(dtype))
		sb.WriteString(`","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strconv.Itoa(d))
		}
		sb.WriteString(`],"data_offsets":[`)
		sb.WriteString(strconv.FormatInt(off, 10))
		sb.WriteByte(',')
		sb.WriteString(strconv.FormatInt(end, 10))
		sb.WriteString("]}")
	}
	sb.WriteByte('}')
	for sb.Len()%8 != 0 {
		sb.WriteByte(' ')
	}
	if sb.Len() > MaxHeaderBytes {
		return nil, fmt.Errorf("header would be %d bytes, over the %d-byte limit", sb.Len(), MaxHeaderBytes)
	}
	return []byte(sb.String()), nil
}

func encodeTensor(w io.Writer, buf []byte, data []float32, dtype DType) error {
	size := dtype.Size()
	per := len(buf) / size
	for len(data) > 0 {
		n := min(per, len(data))
		b := buf[:n*size]
		switch dtype {
		case F32:
			for i, v := range data[:n] {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
			}
		case BF16:
			for i, v := range data[:n] {
				binary.LittleEndian.PutUint16(b[2*i:], Float32ToBF16(v))
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// StreamTensor is a tensor to be written from a source that hands its
// values over in order, a chunk at a time, so that they never need to be in
// memory all at once (a model drawn at random, or held in 16 bits).
type StreamTensor struct {
	Name  string
	Shape []int
	// Fill writes the tensor's next len(dst) values into dst; the calls go
	// from the first element to the last.
	Fill func(dst []float32) error
}

// WriteSafetensorsStream writes tensors to path as dtype (F32 or BF16) with
// their data in the order given (the header lists them by name, as
// WriteSafetensors does), filling each a chunk at a time: the memory it
// needs is a chunk, whatever the tensors' size. The file is written
// atomically; on an error nothing is left at path.
func WriteSafetensorsStream(path string, tensors []StreamTensor, dtype DType, metadata map[string]string) error {
	hdr, sizes, err := streamLayout(tensors, dtype, metadata)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeAtomic(path, func(w io.Writer) error {
		if err := writePreamble(w, hdr); err != nil {
			return err
		}
		buf := make([]byte, chunkBytes)
		vals := make([]float32, chunkBytes/dtype.Size())
		for i, t := range tensors {
			for done := int64(0); done < sizes[i]; {
				n := min(int64(len(vals)), sizes[i]-done)
				if err := t.Fill(vals[:n]); err != nil {
					return fmt.Errorf("tensor %q: %w", t.Name, err)
				}
				if err := encodeTensor(w, buf, vals[:n], dtype); err != nil {
					return fmt.Errorf("tensor %q: %w", t.Name, err)
				}
				done += n
			}
		}
		return nil
	})
}

// streamLayout is a streamed file's header, built from shapes alone (the
// data offsets follow the order given), and each tensor's element count.
func streamLayout(tensors []StreamTensor, dtype DType, metadata map[string]string) ([]byte, []int64, error) {
	if dtype != F32 && dtype != BF16 {
		return nil, nil, fmt.Errorf("dtype %s cannot be written (want F32 or BF16)", dtype)
	}
	named := make([]NamedTensor, len(tensors))
	sizes := make([]int64, len(tensors))
	for i, t := range tensors {
		n, ok := numElements(t.Shape, math.MaxInt64/8)
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
		}
		named[i], sizes[i] = NamedTensor{Name: t.Name, Shape: t.Shape}, n
	}
	ts, err := sortedNames(named)
	if err != nil {
		return nil, nil, err
	}
	offsets := make(map[string][2]int64, len(tensors))
	off := int64(0)
	for i, t := range tensors {
		end := off + sizes[i]*int64(dtype.Size())
		offsets[t.Name] = [2]int64{off, end}
		off = end
	}
	hdr, err := renderHeader(ts, dtype, metadata, func(name string) [2]int64 { return offsets[name] })
	return hdr, sizes, err
}

// WriteSafetensorsSharded writes tensors into dir as a checkpoint whose
// files hold at most maxShardBytes of tensor data each (a single tensor
// larger than that gets a shard of its own). When everything fits in one
// shard it writes model.safetensors alone; otherwise it writes
// model-00001-of-0000N.safetensors … and model.safetensors.index.json, the
// index last. A model.safetensors or index left by an earlier write of the
// other form is removed, since OpenFolder would prefer model.safetensors.
// It returns the names of the files written. A maxShardBytes of zero or less
// means no limit.
func WriteSafetensorsSharded(dir string, tensors []NamedTensor, dtype DType, metadata map[string]string, maxShardBytes int64) ([]string, error) {
	if dtype != F32 && dtype != BF16 {
		return nil, fmt.Errorf("write %s: dtype %s cannot be written (want F32 or BF16)", dir, dtype)
	}
	ts, err := sortedTensors(tensors)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", dir, err)
	}
	size := int64(dtype.Size())
	var shards [][]NamedTensor
	var cur []NamedTensor
	var curBytes, total int64
	for _, t := range ts {
		b := int64(len(t.Data)) * size
		total += b
		if maxShardBytes > 0 && len(cur) > 0 && curBytes+b > maxShardBytes {
			shards = append(shards, cur)
			cur, curBytes = nil, 0
		}
		cur = append(cur, t)
		curBytes += b
	}
	if len(cur) > 0 || len(shards) == 0 {
		shards = append(shards, cur)
	}
	if len(shards) == 1 {
		if err := WriteSafetensors(filepath.Join(dir, WeightsFile), shards[0], dtype, metadata); err != nil {
			return nil, err
		}
		if err := removeStale(filepath.Join(dir, IndexFile)); err != nil {
			return nil, err
		}
		return []string{WeightsFile}, nil
	}
	weightMap := map[string]string{}
	var names []string
	for i, s := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := WriteSafetensors(filepath.Join(dir, name), s, dtype, metadata); err != nil {
			return nil, err
		}
		for _, t := range s {
			weightMap[t.Name] = name
		}
		names = append(names, name)
	}
	idx := struct {
		Metadata  map[string]any    `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{map[string]any{"total_size": total}, weightMap}
	js, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return nil, err
	}
	js = append(js, '\n')
	ip := filepath.Join(dir, IndexFile)
	if err := writeAtomic(ip, func(w io.Writer) error { _, err := w.Write(js); return err }); err != nil {
		return nil, err
	}
	// OpenFolder prefers model.safetensors to the index: drop a stale one.
	if err := removeStale(filepath.Join(dir, WeightsFile)); err != nil {
		return nil, err
	}
	return append(names, IndexFile), nil
}

func removeStale(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", path, err)
	}
	return nil
}

// writeAtomic writes the file at path through fill, buffered, and
// replaces path with it atomically (durable.Write: its errors name path).
func writeAtomic(path string, fill func(w io.Writer) error) error {
	return durable.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, chunkBytes)
		if err := fill(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// writePreamble writes a safetensors file's start: the header's length as a
// little-endian uint64, then the header.
func writePreamble(w io.Writer, hdr []byte) error {
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(len(hdr)))
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	_, err := w.Write(hdr)
	return err
}
