package warmstart

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

func byteTok(t *testing.T) *tokenizer.Tokenizer {
	data, err := tokenizer.ByteLevelJSON(AddedTokens)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSequencesLearnTheRightTokens(t *testing.T) {
	tok := byteTok(t)
	p := ShortPrompts()
	ts := TeacherSequence(tok, p, "347+285=?", "632", "7+5=12")
	learned := tok.Decode(ts.Tokens[ts.LossFrom:])
	if learned != record.ExplanationLead+"7+5=12"+record.EndExplanation+record.ImEnd {
		t.Errorf("teacher learns %q, want the lead, the body, the end tag and the end of turn", learned)
	}
	if !strings.HasSuffix(tok.Decode(ts.Tokens[:ts.LossFrom]), record.BeginExplanation) {
		t.Errorf("teacher context does not end with the explanation's opening tag: %q", tok.Decode(ts.Tokens[:ts.LossFrom]))
	}
	ss := StudentSequence(tok, p, "347+285=?", "7+5=12", "632")
	want := record.BeginThought + "\n\n7+5=12" + record.EndThought + "\n\n" + record.BeginSolution + "632" + record.EndSolution + record.ImEnd
	if got := tok.Decode(ss.Tokens[ss.LossFrom:]); got != want {
		t.Errorf("student learns %q, want %q", got, want)
	}
	if got := tok.Decode(ss.Tokens); got != p.StudentContext("347+285=?", "7+5=12", "632") {
		t.Errorf("student sequence %q is not the student context", got)
	}
}

// TestTeacherLearnsTheLead: the teacher's loss starts at the first token
// that holds a byte after the explanation's opening tag, so the prefill's
// lead "\n\n", which the reward scores as T's first tokens (RLT.md §2) and
// nothing else teaches the teacher, is learned (RLT.md §4): with tags that
// are added tokens, the lead's own tokens; with tags in plain text, the
// token that a merge joins the tag's ">" to the lead with. Every token of
// T (rlt.ItemLayout) is learned, and no token before the tag's end; the
// student learns all of T and S.
func TestTeacherLearnsTheLead(t *testing.T) {
	plain, err := os.ReadFile("../tokenizer/testdata/qwen2_strings.json")
	if err != nil {
		t.Fatal(err)
	}
	stripping := bytes.Replace(plain, []byte(`"content":"<|im_end|>","single_word":false,"lstrip":false`), []byte(`"content":"<|im_end|>","single_word":false,"lstrip":true`), 1)
	if bytes.Equal(stripping, plain) {
		t.Fatal("no <|im_end|> added token to make lstrip")
	}
	parse := func(data []byte) *tokenizer.Tokenizer {
		tok, err := tokenizer.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const question, solution, body = "347+285=?", "632", "First add the ones."
	for _, c := range []struct {
		name  string
		tok   *tokenizer.Tokenizer
		p     record.Prompts
		first string // the first learned token
		whole bool   // rlt.ItemLayout lays the texts out whole
	}{
		{"added tags (the embedded vocabulary)", byteTok(t), ShortPrompts(), "\n", true},
		{"plain tags, merged across the edge", parse(plain), record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}, ">\n", true},
		// An added token that takes the space before it: the text cannot
		// be placed byte for byte.
		{"plain tags, part by part", parse(stripping), record.Prompts{TeacherSystem: "Explain. ", StudentSystem: "Think. "}, ">\n", false},
	} {
		ts := TeacherSequence(c.tok, c.p, question, solution, body)
		head := c.tok.Decode(c.tok.Encode(c.p.TeacherHead(question, solution)))
		if got, want := c.tok.Decode(ts.Tokens), head+record.ExplanationLead+body+record.EndExplanation+record.ImEnd; got != want {
			t.Fatalf("%s: the sequence spells %q, want %q", c.name, got, want)
		}
		if before := c.tok.Decode(ts.Tokens[:ts.LossFrom]); !strings.HasPrefix(head, before) {
			t.Errorf("%s: the loss starts after %q, want the context through the opening tag %q", c.name, before, head)
		}
		if got := c.tok.Decode(ts.Tokens[ts.LossFrom : ts.LossFrom+1]); got != c.first {
			t.Errorf("%s: the first learned token is %q, want %q", c.name, got, c.first)
		}
		l := rlt.ItemLayout(c.tok, c.p, question, solution, body)
		if l.Whole != c.whole {
			t.Fatalf("%s: laid out whole %v", c.name, l.Whole)
		}
		if c.whole && (!slices.Equal(ts.Tokens[:len(l.Teacher)], l.Teacher) || ts.LossFrom > l.TeacherT) {
			t.Errorf("%s: the loss starts at token %d, T at %d (of the scored sequence, %d tokens): T is not all learned", c.name, ts.LossFrom, l.TeacherT, len(l.Teacher))
		}
		ss := StudentSequence(c.tok, c.p, question, body, solution)
		sl := rlt.StudentLayout(c.tok, c.p, question, body, solution)
		if !slices.Equal(ss.Tokens, sl.IDs) || ss.LossFrom > sl.Expl.Start || sl.Expl.Start >= sl.Sol.Start {
			t.Errorf("%s: the student learns from %d; T starts at %d, S at %d", c.name, ss.LossFrom, sl.Expl.Start, sl.Sol.Start)
		}
	}
}

func TestSFTLowersTheLoss(t *testing.T) {
	tok := byteTok(t)
	cfg := TinyConfig()
	cfg.Hidden, cfg.Intermediate, cfg.Layers = 64, 128, 2
	m, err := model.NewRandom(compute.NewCPU(), cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := task.WarmStart(task.DefaultAddition(), 5, 8*40, map[string]float64{task.StyleClean: 1})
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([]Sequence, len(corpus))
	for i, tr := range corpus {
		seqs[i] = TeacherSequence(tok, ShortPrompts(), tr.Question, tr.Solution, tr.Explanation)
	}
	held := seqs[:8]
	before, err := Loss(m, held)
	if err != nil {
		t.Fatal(err)
	}
	sft, err := NewSFT(m, compute.ConstantLR(3e-3), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s < 40; s++ {
		if _, _, err := sft.Step(seqs[s*8 : s*8+8]); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := Loss(m, held)
	if !(after < before*0.6) {
		t.Errorf("held loss %.3f → %.3f after 39 steps; want a clear drop", before, after)
	}
}

// TestSFTRefusesBadSequences: SFT refuses a sequence that does not fit
// the model's positions in the words of every refusal past them
// (model.PositionsError), naming it by its place in the batch it was
// given, whichever micro-batch it falls in (a step's fourth sequence
// was "sequence 0", its place in its micro-batch), and one that learns
// from no token of its own.
func TestSFTRefusesBadSequences(t *testing.T) {
	cfg := TinyConfig()
	cfg.Hidden, cfg.Intermediate, cfg.Layers, cfg.MaxPos = 32, 64, 1, 8
	m, err := model.NewRandom(compute.NewCPU(), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	sft, err := NewSFT(m, compute.ConstantLR(1e-3), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	sft.MicroBatchTokens = 16 // two 8-token sequences a micro-batch, an 11-token one alone
	fits := Sequence{Tokens: make([]int32, 8), LossFrom: 1}
	long := Sequence{Tokens: make([]int32, 11), LossFrom: 1}
	past := func(i int) string {
		return fmt.Sprintf("sft: the model: sequence %d takes 11 tokens, 3 more than its 8 positions (max_position_embeddings): leave it out, or shorten its text to at most 8 tokens", i)
	}
	for _, c := range []struct {
		name string
		err  func() error
		want string // "" for none
	}{
		{"the loss of a batch, first", func() error { _, err := Loss(m, []Sequence{long, fits}); return err }, past(0)},
		{"the loss of a batch, third", func() error { _, err := Loss(m, []Sequence{fits, fits, long}); return err }, past(2)},
		{"a step, in its third micro-batch", func() error { _, _, err := sft.Step([]Sequence{fits, fits, fits, long}); return err }, past(3)},
		{"learning from token 0", func() error { _, err := Loss(m, []Sequence{fits, {Tokens: []int32{1, 2}, LossFrom: 0}}); return err },
			"sft: sequence 1 learns from token 0 of 2"},
		{"filling the positions", func() error { _, err := Loss(m, []Sequence{fits}); return err }, ""},
	} {
		err := c.err()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want none", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
	}
}

func TestBuildWritesLoadableFolders(t *testing.T) {
	r := DefaultRecipe()
	r.Steps, r.Batch = 3, 4
	r.Teacher.Hidden, r.Teacher.Intermediate, r.Teacher.Layers = 32, 64, 1
	r.Student = r.Teacher
	dir := t.TempDir()
	var seen []Progress
	if err := Build(context.Background(), r, dir, func(p Progress) { seen = append(seen, p) }); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"teacher", "student"} {
		if _, err := model.Load(compute.NewCPU(), dir+"/"+who); err != nil {
			t.Errorf("%s: %v", who, err)
		}
		if _, err := tokenizer.Load(dir + "/" + who + "/tokenizer.json"); err != nil {
			t.Errorf("%s tokenizer: %v", who, err)
		}
	}
	if len(seen) == 0 || seen[len(seen)-1].Model != "student" || seen[len(seen)-1].Step != 3 {
		t.Errorf("progress %+v", seen)
	}
}

// TestSFTStepUnderATokenBudget: an SFT step in micro-batches of a token
// budget, with layers checkpointed or not, gives the loss, gradient norm and
// weights of the step over the whole batch; a budget under one sequence is
// refused with the numbers.
func TestSFTStepUnderATokenBudget(t *testing.T) {
	tok := byteTok(t)
	cfg := TinyConfig()
	cfg.Hidden, cfg.Intermediate, cfg.Layers = 32, 64, 2
	corpus, err := task.WarmStart(task.DefaultAddition(), 5, 4, map[string]float64{task.StyleClean: 1})
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([]Sequence, len(corpus))
	longest := 0
	for i, tr := range corpus {
		seqs[i] = TeacherSequence(tok, ShortPrompts(), tr.Question, tr.Solution, tr.Explanation)
		longest = max(longest, len(seqs[i].Tokens))
	}
	step := func(budget int, ck runconfig.CheckpointMode) (float64, float64, []float32, error) {
		m, err := model.NewRandom(compute.NewCPU(), cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		sft, err := NewSFT(m, compute.ConstantLR(3e-3), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		sft.MicroBatchTokens, sft.Checkpoint = budget, ck
		loss, norm, err := sft.Step(seqs)
		var w []float32
		for _, p := range m.Tensors() {
			v := make([]float32, p.Len())
			m.Backend().Read(v, p)
			w = append(w, v...)
		}
		return loss, norm, w, err
	}
	wl, wn, ww, err := step(0, runconfig.CheckpointOff)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		budget int
		ck     runconfig.CheckpointMode
	}{{longest, runconfig.CheckpointOff}, {2 * longest, runconfig.CheckpointOn}, {longest, runconfig.CheckpointAuto}} {
		l, n, w, err := step(c.budget, c.ck)
		if err != nil {
			t.Fatalf("budget %d: %v", c.budget, err)
		}
		if math.Abs(l-wl) > 1e-5 || math.Abs(n-wn) > 1e-4*max(1, wn) {
			t.Errorf("budget %d, checkpoint %s: loss %v, norm %v; want %v, %v", c.budget, c.ck, l, n, wl, wn)
		}
		for i := range w {
			if math.Abs(float64(w[i]-ww[i])) > 1e-5 {
				t.Fatalf("budget %d, checkpoint %s: weight %d = %v, want %v", c.budget, c.ck, i, w[i], ww[i])
			}
		}
	}
	if _, _, _, err := step(longest-1, runconfig.CheckpointAuto); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("micro_batch_tokens = %d is smaller than sequence", longest-1)) {
		t.Errorf("a budget under one sequence: %v", err)
	}
}

// TestBuildIgnoresTheWorkerCount: a recipe's model files are the same bytes
// on 1, 2 or 3 workers (GOMAXPROCS), as rlt pretrain --help says: rows and
// columns here are enough for the pool to split every reduction.
func TestBuildIgnoresTheWorkerCount(t *testing.T) {
	r := DefaultRecipe()
	r.Steps, r.Batch = 2, 8
	r.Teacher.Hidden, r.Teacher.Intermediate, r.Teacher.Layers = 64, 128, 1
	r.Student = r.Teacher
	build := func(workers int) map[string][]byte {
		old := parallel.Workers()
		parallel.SetWorkers(workers)
		defer parallel.SetWorkers(old)
		dir := t.TempDir()
		if err := Build(context.Background(), r, dir, nil); err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, who := range []string{"teacher", "student"} {
			data, err := os.ReadFile(filepath.Join(dir, who, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			files[who] = data
		}
		return files
	}
	one := build(1)
	for _, w := range []int{2, 3} {
		for who, data := range build(w) {
			if !bytes.Equal(data, one[who]) {
				t.Errorf("%d workers: %s/model.safetensors differs from 1 worker's", w, who)
			}
		}
	}
}
