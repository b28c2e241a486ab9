package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestEngineHoldsNoTokenizerBytes: the bytes of the teacher's
// tokenizer.json that Check keeps (Checked.teacherTok, for New to take
// the parsed tokenizer where the file is unchanged: 11 MB for a Qwen
// tokenizer) are held by the Checked alone, not by the engine New makes:
// the workbench holds its engines for the whole session, and a Checked
// only until the run has started. Measured: the teacher's and student's
// tokenizer.json padded with 32 MiB of JSON whitespace (the same
// tokenizer, bytes the size of a large one's), the heap after New with
// the engine held and the Checked dropped against the heap before Check.
func TestEngineHoldsNoTokenizerBytes(t *testing.T) {
	dir := tinyModels(t)
	const pad = 32 << 20
	for _, m := range []string{"teacher", "student"} {
		path := filepath.Join(dir, m, hf.TokenizerFile)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(data, bytes.Repeat([]byte{' '}, pad)...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := smallConfig(dir)
	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	before := heap()
	checked, err := Check(c)
	if err != nil {
		t.Fatal(err)
	}
	if checked.teacherTok == nil {
		t.Fatal("Check kept no teacher's tokenizer")
	}
	held := heap()
	e, err := New(context.Background(), checked, event.Discard{})
	if err != nil {
		t.Fatal(err)
	}
	checked = Checked{}
	after := heap()
	runtime.KeepAlive(e)
	t.Logf("heap: %.1f MiB before Check, %.1f MiB with the Checked, %.1f MiB with the engine alone", float64(before)/(1<<20), float64(held)/(1<<20), float64(after)/(1<<20))
	if after-before >= pad/2 {
		t.Errorf("the engine holds %.1f MiB more than before Check: the tokenizer's %d MiB of bytes are held past New", float64(after-before)/(1<<20), pad>>20)
	}
}
