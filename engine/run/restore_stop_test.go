package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/stoptest"
)

// TestRestoreStopsWhenCancelled: a resume's restore whose context ends
// while the checkpoint's models load (the teacher's, then the
// reference's), or while the optimiser's moments are read after them,
// stops before the next tensor (or, for a moment read in parts, before
// its next part), with an error wrapping context.Canceled and the
// *model.StoppedError that names the tensor and its file, said as the
// model's; the checkpoint is left byte for byte as it was, and a restore
// from it afterwards (its moments read in parts, bit for bit the
// snapshot's) resumes at its step. Restore took no context: it read every
// tensor of both models; then the moments were read whole before it
// (sessions.ReadTrainerCheckpoint), looking at no context.
func TestRestoreStopsWhenCancelled(t *testing.T) {
	c := smallConfig(tinyModels(t))
	c.EvalEvery = 0
	first, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := first.Trainer.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ck := saveSnapshot(t, snap)
	files := func() map[string]string {
		all := map[string]string{}
		for _, dir := range []string{ck.TeacherDir, ck.ReferenceDir} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				all[filepath.Join(dir, e.Name())] = string(b)
			}
		}
		b, err := os.ReadFile(ck.OptimizerFile)
		if err != nil {
			t.Fatal(err)
		}
		all[ck.OptimizerFile] = string(b)
		return all
	}
	before := files()
	params := first.Trainer.Teacher.Params()
	n := len(params)
	// The optimiser's moments, in the order Restore reads them.
	var moments []string
	for _, p := range params {
		moments = append(moments, p.Name+".exp_avg", p.Name+".exp_avg_sq")
	}
	every := momentsStopEvery
	defer func() { momentsStopEvery = every }()
	for _, s := range []struct {
		look  int    // the look at Err that cancels
		every int64  // momentsStopEvery (0: as it is)
		who   string // what it stops in
		file  string
		names []string // the tensors of file, in the order they are read
		read  int      // the tensor it stops at: before it, or within it
		how   string   // the stop's words about that tensor
	}{
		{1, 0, "teacher", filepath.Join(ck.TeacherDir, "model.safetensors"), paramNames(params), 0, "stopped before it"},
		{4, 0, "teacher", filepath.Join(ck.TeacherDir, "model.safetensors"), paramNames(params), 3, "stopped before it"},
		{n + 2, 0, "reference", filepath.Join(ck.ReferenceDir, "model.safetensors"), paramNames(params), 1, "stopped before it"},
		// The models read (a look before each of their tensors), the
		// moments' read looks before each of its tensors.
		{2*n + 1, 0, "optimizer", ck.OptimizerFile, moments, 0, "stopped before it"},
		{2*n + 4, 0, "optimizer", ck.OptimizerFile, moments, 3, "stopped before it"},
		// Parts of 64 bytes: the embedding's first moment (tensor 0, of
		// more than 64 bytes) looks before its second part too.
		{2*n + 2, 64, "optimizer", ck.OptimizerFile, moments, 0, "stopped 64 B into its "},
	} {
		e, err := checkAndNew(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		momentsStopEvery = every
		if s.every > 0 {
			momentsStopEvery = s.every
		}
		ctx, cancel := context.WithCancel(context.Background())
		err = e.Restore(&stoptest.OnLook{Context: ctx, N: s.look, Cancel: cancel}, ck)
		cancel()
		var stopped *model.StoppedError
		want := fmt.Sprintf("resume: %s: %s: tensor %q: %s", s.who, s.file, s.names[s.read], s.how)
		tail := fmt.Sprintf(", %d of %d tensors read: context canceled", s.read, len(s.names))
		if !errors.Is(err, context.Canceled) || !errors.As(err, &stopped) || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), tail) {
			t.Errorf("stopped at look %d: %v;\nwant %q…%q", s.look, err, want, tail)
		}
	}
	after := files()
	for path, b := range before {
		if after[path] != b {
			t.Errorf("%s changed under the stopped restores", path)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the checkpoint holds %d files after the stopped restores, %d before", len(after), len(before))
	}
	e, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Parts of 1006 bytes divide no moment: each one's last part is a
	// shorter one. The moments read so are the snapshot's, bit for bit.
	momentsStopEvery = 1006
	if err := e.Restore(context.Background(), ck); err != nil {
		t.Fatalf("a restore after the stopped ones: %v", err)
	}
	m, v, _ := e.Trainer.Optimizer().State()
	for i := range params {
		for j, mom := range []*compute.Tensor{m[i], v[i]} {
			got := make([]float32, mom.Len())
			e.Trainer.Teacher.Backend().Read(got, mom)
			want := snap.Optimizer[2*i+j]
			if want.Name != moments[2*i+j] || !slices.EqualFunc(got, want.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
				t.Errorf("moment %q restored in parts differs from the snapshot's %q", moments[2*i+j], want.Name)
			}
		}
	}
	if r, err := e.Trainer.Step(context.Background()); err != nil || r.Step != 2 {
		t.Fatalf("the step after it: %d, %v; want step 2", r.Step, err)
	}
}

// paramNames is the names of params, in their order.
func paramNames(params []model.Param) []string {
	var out []string
	for _, p := range params {
		out = append(out, p.Name)
	}
	return out
}

// TestRestoreNamesAMomentItCannotUse: an optimizer file that lacks a
// moment of the teacher's, or holds one of another size (a model of
// another shape), refuses the resume naming the file, the tensor, and,
// for a size, both counts. The words were "tensor %q missing or of the
// wrong size": no file, and not which of the two.
func TestRestoreNamesAMomentItCannotUse(t *testing.T) {
	c := smallConfig(tinyModels(t))
	c.EvalEvery = 0
	first, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Trainer.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	victim := snap.Optimizer[0]
	for _, tc := range []struct {
		name   string
		change func([]hf.NamedTensor) []hf.NamedTensor
		want   []string
	}{
		{"missing", func(ts []hf.NamedTensor) []hf.NamedTensor { return ts[1:] },
			[]string{fmt.Sprintf("tensor %q is missing", victim.Name), "optimizer.safetensors"}},
		{"another size", func(ts []hf.NamedTensor) []hf.NamedTensor {
			ts[0] = hf.NamedTensor{Name: victim.Name, Shape: []int{len(victim.Data) - 1}, Data: victim.Data[1:]}
			return ts
		}, []string{fmt.Sprintf("tensor %q holds %d values where", victim.Name, len(victim.Data)-1), fmt.Sprintf("has %d", len(victim.Data)), "optimizer.safetensors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck := saveSnapshot(t, snap)
			ts := tc.change(slices.Clone(snap.Optimizer))
			if err := hf.WriteSafetensors(ck.OptimizerFile, ts, hf.F32, snap.OptimizerMeta); err != nil {
				t.Fatal(err)
			}
			again, err := checkAndNew(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = again.Restore(context.Background(), ck)
			if err == nil {
				t.Fatal("restored from an optimizer file the teacher cannot use")
			}
			for _, w := range append(tc.want, "resume: optimizer: "+ck.OptimizerFile) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
