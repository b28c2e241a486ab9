package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// A Parquet file is "PAR1", the column chunks, the footer (Thrift
// FileMetaData), its 4-byte little-endian length and "PAR1" again. A writer
// such as pandas' DataFrame.to_parquet writes the footer last, straight into
// the final path, so a file without its closing magic is still being
// written.
var parquetMagic = []byte("PAR1")

// errParquetPending says a Parquet file is not complete yet: no footer, or
// its size changed while it was read. It is read again when it changes.
var errParquetPending = errors.New("incomplete")

// pqCell is one value of a flat Parquet column: a string (BYTE_ARRAY), a
// number (any integer or floating type, and booleans as 0/1), or null.
type pqCell struct {
	Str   string
	Num   float64
	IsStr bool
	IsNum bool
	Int   bool // the column has an integer type (Num is integral)
}

// pqTable is the flat columns of a Parquet file, rows in file order.
type pqTable struct {
	Columns []string   // top-level leaf columns, in schema order
	Nested  []string   // nested columns (lists, structs), not read
	Rows    [][]pqCell // parallel to Columns
}

// col is the index of the column named name (-1 if none).
func (t *pqTable) col(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// readParquet reads the flat columns of the Parquet file at path with
// github.com/parquet-go/parquet-go. A file that has no closing magic yet,
// or whose size changes while it is read, is errParquetPending (wrapped
// with why); a file that is not Parquet or is broken is an error naming it.
// The decoder is third-party code reading a file another process writes: a
// panic inside it is turned into an error about that file.
func readParquet(path string) (t *pqTable, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, err = decodeParquet(f, st.Size())
	if err != nil {
		return nil, err
	}
	if st2, err := os.Stat(path); err != nil || st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		return nil, fmt.Errorf("%w: it changed while it was read (being written)", errParquetPending)
	}
	return t, nil
}

// decodeParquet reads the flat columns of the size bytes of a Parquet file
// in r (readParquet without the check that the file did not change).
func decodeParquet(r io.ReaderAt, size int64) (t *pqTable, err error) {
	var head, tail [4]byte
	if size >= 4 {
		if _, err := r.ReadAt(head[:], 0); err != nil {
			return nil, err
		}
		if !bytes.Equal(head[:], parquetMagic) {
			return nil, fmt.Errorf("not a Parquet file (it does not start with %q)", parquetMagic)
		}
	}
	if size < 12 {
		return nil, fmt.Errorf("%w: %d bytes and no Parquet footer: still being written, or cut short", errParquetPending, size)
	}
	if _, err := r.ReadAt(tail[:], size-4); err != nil {
		return nil, err
	}
	if !bytes.Equal(tail[:], parquetMagic) {
		return nil, fmt.Errorf("%w: %d bytes and no Parquet footer: still being written, or cut short", errParquetPending, size)
	}
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("broken Parquet file: the decoder failed: %v", p)
		}
	}()
	pf, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("broken Parquet file: %w", err)
	}
	t = &pqTable{}
	paths := pf.Schema().Columns()
	index := make([]int, len(paths)) // leaf column → index in t.Columns, or -1
	for i, p := range paths {
		index[i] = -1
		if len(p) != 1 {
			name := strings.Join(p, ".")
			if len(t.Nested) == 0 || !strings.HasPrefix(name, t.Nested[len(t.Nested)-1]+".") {
				t.Nested = append(t.Nested, p[0])
			}
			continue
		}
		if strings.HasPrefix(p[0], "__index_level_") { // a pandas index stored as a column
			continue
		}
		index[i] = len(t.Columns)
		t.Columns = append(t.Columns, p[0])
	}
	rows := parquet.NewReader(pf)
	defer rows.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, rerr := rows.ReadRows(buf)
		for _, row := range buf[:n] {
			cells := make([]pqCell, len(t.Columns))
			for _, v := range row {
				c := v.Column()
				if c < 0 || c >= len(index) || index[c] < 0 {
					continue
				}
				cells[index[c]] = cellOf(v)
			}
			t.Rows = append(t.Rows, cells)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("broken Parquet file: row %d: %w", len(t.Rows)+1, rerr)
		}
	}
	return t, nil
}

func cellOf(v parquet.Value) pqCell {
	if v.IsNull() {
		return pqCell{}
	}
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return pqCell{Str: string(v.ByteArray()), IsStr: true}
	case parquet.Boolean:
		if v.Boolean() {
			return pqCell{Num: 1, IsNum: true, Int: true}
		}
		return pqCell{IsNum: true, Int: true}
	case parquet.Int32:
		return pqCell{Num: float64(v.Int32()), IsNum: true, Int: true}
	case parquet.Int64:
		return pqCell{Num: float64(v.Int64()), IsNum: true, Int: true}
	case parquet.Float:
		return pqCell{Num: float64(v.Float()), IsNum: true}
	case parquet.Double:
		return pqCell{Num: v.Double(), IsNum: true}
	}
	return pqCell{Num: math.NaN()}
}
