package run

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/shell"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// DataTask is the task name of a run on user data (runconfig.Config.Task
// may also be left empty when its Data is set).
const DataTask = "jsonl"

// Data is a run's user data: the rows GRPO draws its questions from and the
// held-out questions it is evaluated on.
type Data struct {
	File *task.File // runconfig.Config.Data
	// EvalFile is runconfig.Config.EvalData, or nil: the held-out
	// questions are then a task.DataHeldOut fraction of File's
	// (task.HoldOut).
	EvalFile *task.File
	// Train are the rows GRPO draws from, in file order.
	Train []task.Example
	// HeldOut are the evaluation questions, one row each, in evaluation
	// order (task.Distinct): Evaluate(n) uses the first n.
	HeldOut []task.Example
	// HeldRows counts File's rows kept out of training because their
	// question is held out (or is in EvalFile).
	HeldRows int
	// Repeated are File's rows left out as asking an earlier row's
	// question with its solution (task.Repeated), in file order,
	// not counted among its rows (File.Report) nor skipped: the teacher
	// writes its own explanations of a row's question and solution, so a
	// repeat was the same question trained on again, each question N times
	// an epoch from a file of rlt distill --samples-out (one line a
	// sample), as rlt distill without --reference explains it once.
	Repeated []task.Example
	// lengths are the rows' prompt lengths once measured (Lengths), shared
	// by clones: nil for a Data made by hand, which is measured each time.
	lengths *promptLengths
}

// promptLengths are a data file's rows' prompt lengths (rlt.PromptLengths)
// as one tokenizer and prompts measure them, by the rows' lines: Train's
// and HeldOut's (whose lines may be eval_data's). Checked.Memory measures
// every row before a run starts (the runner's check, then New's own) and
// New's fit leaves out the rows that do not fit the models: each reads
// them here where its tokenizer is the one they were measured with
// (Check's, where the teacher's file is unchanged), rather than tokenizing
// every row again: a 200k-row file's rows took a minute to measure at a
// load of 30, and a run's start measured them three times.
type promptLengths struct {
	mu sync.Mutex
	of *rowLengths // nil until measured
}

// rowLengths are the lengths of one measure, not changed once made.
type rowLengths struct {
	tok            rlt.Encoder
	prompts        record.Prompts
	train, heldOut map[int][2]int
	// trainSolutions are the training rows' solutions' tokens, by line
	// (measurePrompts).
	trainSolutions map[int]int
}

// measuredBy is d's rows' lengths as tok and p measured them: nil where
// they were not (or d is a Data made by hand, which keeps none).
func (d *Data) measuredBy(tok rlt.Encoder, p record.Prompts) *rowLengths {
	if d.lengths == nil {
		return nil
	}
	d.lengths.mu.Lock()
	l := d.lengths.of
	d.lengths.mu.Unlock()
	if l == nil || l.tok != tok || l.prompts != p {
		return nil
	}
	return l
}

// promptBound is what a run's memory estimate takes of its data rows'
// prompt lengths (Data.longestPrompts).
type promptBound struct {
	// teacher and student are the longest teacher prompt and student
	// context of all the rows.
	teacher, student int
	// row names the row whose teacher prompt is the longest, "FILE line
	// N"; "" where the rows have no file and line, or are one row. One
	// such row sizes every step's sequences in the estimate: a question
	// of 24k tokens among short ones asked 129 GiB, and the advice named
	// only the step's settings, none of which comes near.
	row string
	// nextTeacher and nextStudent are the longest of the other rows'.
	nextTeacher, nextStudent int
	// solution and beforeSolution are the most tokens a training row's
	// solution takes and its student context less the solution: the
	// student's reconstruction's budget and prompt (memory.GRPO.Solution).
	solution, beforeSolution int
}

// promptRow is one row's prompt lengths and where the row is.
type promptRow struct {
	path    string
	line    int
	lengths [2]int // teacher prompt, student context
	// solution is a training row's solution's tokens; 0 for a held-out
	// row, which the student never reconstructs.
	solution int
}

// boundOf is the promptBound of rows: the row with the longest teacher
// prompt is the earliest of the longest (by file, then line), so that the
// same rows name the same row whatever order they come in.
func boundOf(rows []promptRow) promptBound {
	var b promptBound
	best := -1
	for i, r := range rows {
		b.teacher, b.student = max(b.teacher, r.lengths[0]), max(b.student, r.lengths[1])
		if r.solution > 0 {
			b.solution, b.beforeSolution = max(b.solution, r.solution), max(b.beforeSolution, r.lengths[1]-r.solution)
		}
		if best < 0 || r.lengths[0] > rows[best].lengths[0] ||
			r.lengths[0] == rows[best].lengths[0] && (r.path < rows[best].path || r.path == rows[best].path && r.line < rows[best].line) {
			best = i
		}
	}
	if len(rows) < 2 || rows[best].path == "" || rows[best].line <= 0 {
		return b
	}
	for i, r := range rows {
		if i != best {
			b.nextTeacher, b.nextStudent = max(b.nextTeacher, r.lengths[0]), max(b.nextStudent, r.lengths[1])
		}
	}
	b.row = fmt.Sprintf("%s line %d", rows[best].path, rows[best].line)
	return b
}

// paths are the files d's training and held-out rows were read from ("" where
// d was made by hand).
func (d *Data) paths() (train, heldOut string) {
	if d.File != nil {
		train, heldOut = d.File.Path, d.File.Path
	}
	if d.EvalFile != nil {
		heldOut = d.EvalFile.Path
	}
	return train, heldOut
}

// longestPrompts is the longest teacher prompt and student context of d's
// rows, Train's and HeldOut's, as tok and p measure them (measurePrompts),
// and the row of the longest teacher prompt, measured once and kept for
// the next check and for fit (fitReasons). Only the rows whose lengths
// fits takes are counted (nil: all): New leaves out the rows too long for
// the models, which no step holds.
func (d *Data) longestPrompts(tok *tokenizer.Tokenizer, p record.Prompts, fits func(lengths [2]int) bool) promptBound {
	trainPath, heldOutPath := d.paths()
	var rows []promptRow
	bound := func() promptBound {
		if fits != nil {
			rows = slices.DeleteFunc(rows, func(r promptRow) bool { return !fits(r.lengths) })
		}
		return boundOf(rows)
	}
	if l := d.measuredBy(tok, p); l != nil {
		for line, x := range l.train {
			rows = append(rows, promptRow{trainPath, line, x, l.trainSolutions[line]})
		}
		for line, x := range l.heldOut {
			rows = append(rows, promptRow{heldOutPath, line, x, 0})
		}
		return bound()
	}
	ls, solutions := measurePrompts(tok, p, d.Train, d.HeldOut)
	trainSolutions := make(map[int]int, len(d.Train))
	for i, ex := range d.Train {
		rows = append(rows, promptRow{trainPath, ex.Line, ls[0][i], solutions[0][i]})
		trainSolutions[ex.Line] = solutions[0][i]
	}
	for i, ex := range d.HeldOut {
		rows = append(rows, promptRow{heldOutPath, ex.Line, ls[1][i], 0})
	}
	byLine := func(rows []task.Example, ls [][2]int) map[int][2]int {
		m := make(map[int][2]int, len(rows))
		for i, ex := range rows {
			m[ex.Line] = ls[i]
		}
		return m
	}
	l := &rowLengths{tok: tok, prompts: p, train: byLine(d.Train, ls[0]), heldOut: byLine(d.HeldOut, ls[1]), trainSolutions: trainSolutions}
	// Kept where each row has a line of its own (a file's rows do), so
	// that no row is read another's lengths.
	if d.lengths != nil && len(l.train) == len(d.Train) && len(l.heldOut) == len(d.HeldOut) {
		d.lengths.mu.Lock()
		d.lengths.of = l
		d.lengths.mu.Unlock()
	}
	return bound()
}

// fitReasons are FitReason for d's training rows and held-out ones, each
// reading a row's lengths where longestPrompts measured them with tok and
// p, and measuring them where it did not.
func (d *Data) fitReasons(tok rlt.Encoder, p record.Prompts, maxNew int, pos rlt.Positions, maxPrompt int) (train, heldOut func(task.Example) string) {
	measure := func(ex task.Example) string {
		teacher, student := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
		return lengthsReason(maxNew, pos, maxPrompt, ex.Question, teacher, student)
	}
	l := d.measuredBy(tok, p)
	if l == nil {
		return measure, measure
	}
	read := func(m map[int][2]int) func(task.Example) string {
		return func(ex task.Example) string {
			x, ok := m[ex.Line]
			if !ok {
				return measure(ex)
			}
			return lengthsReason(maxNew, pos, maxPrompt, ex.Question, x[0], x[1])
		}
	}
	return read(l.train), read(l.heldOut)
}

// lengthsReason is LengthsFitReason of a data row, the row left out first
// where its teacher prompt takes more than maxPrompt tokens
// (max_prompt_tokens; 0: no cap).
func lengthsReason(maxNew int, pos rlt.Positions, maxPrompt int, question string, teacher, student int) string {
	if maxPrompt > 0 && teacher > maxPrompt {
		return fmt.Sprintf("its teacher prompt takes %d tokens, more than max_prompt_tokens = %d", teacher, maxPrompt)
	}
	return LengthsFitReason(maxNew, pos, question, teacher, student, "")
}

// LoadData reads and splits the configuration's data files (nil, nil when
// its Data is empty). It knows no models: rows that do not fit them are
// left out by New. Its problems are *configkey.Error about data or
// eval_data, the file at fault, for Validate's callers to place.
func LoadData(c runconfig.Config) (*Data, error) {
	if c.Data == "" {
		return nil, nil
	}
	f, err := task.ReadFile("data", c.Data)
	if err != nil {
		err = configkey.Wrap("data", err)
		if c.EvalData != "" { // said together with the data's, not after it is fixed
			if _, eerr := task.ReadFile("eval_data", c.EvalData); eerr != nil {
				err = errors.Join(err, configkey.Wrap("eval_data", eerr))
			}
		}
		return nil, err
	}
	d := &Data{File: f, lengths: &promptLengths{}}
	repeated := task.Repeated()
	f.LeaveOut(func(ex task.Example) bool {
		if repeated(ex) {
			d.Repeated = append(d.Repeated, ex)
			return true
		}
		return false
	})
	if c.EvalData == "" {
		train, held := task.HoldOut(f.Examples, task.DataHeldOut)
		d.Train, d.HeldOut, d.HeldRows = train, task.Distinct(held), len(held)
		if len(d.HeldOut) == 0 && c.EvalEvery > 0 {
			// Rows skipped as unusable may be why one question is left:
			// they are said here, where the run stops, not in a warning
			// that a run which does not start never gives.
			skipped := ""
			if r := f.Report; len(r.Skipped) > 0 {
				skipped = fmt.Sprintf(" (%s, %d skipped: %s)", jsonerr.Rows(r.Rows), len(r.Skipped), r.SkipList(10))
			}
			return nil, configkey.Errorf("data", "data %s: every usable row asks the same question%s, so none can be held out for evaluation; give eval_data = FILE, %s", f.Path, skipped, evalEveryZero())
		}
		return d, nil
	}
	ef, err := task.ReadFile("eval_data", c.EvalData)
	if err != nil {
		return nil, configkey.Wrap("eval_data", err)
	}
	d.EvalFile = ef
	d.HeldOut = task.Distinct(ef.Examples)
	evalLine := map[string]int{}
	for _, ex := range ef.Examples {
		if k := task.QuestionKey(ex.Question); evalLine[k] == 0 {
			evalLine[k] = ex.Line
		}
	}
	for _, ex := range f.Examples {
		if evalLine[task.QuestionKey(ex.Question)] != 0 {
			d.HeldRows++
		} else {
			d.Train = append(d.Train, ex)
		}
	}
	if len(d.Train) == 0 {
		// On eval_data: it is the file that took every question.
		return nil, configkey.Errorf("eval_data", "data %s: every usable row asks a question of eval_data %s; nothing is left to train on", f.Path, ef.Path)
	}
	return d, nil
}

// clone is a copy of d that fit can change without changing d: its own
// Data and File values, and its own reports (Drop appends skips). The
// rows themselves are shared, read only. nil stays nil.
func (d *Data) clone() *Data {
	if d == nil {
		return nil
	}
	c := *d
	c.File = cloneFile(d.File)
	if d.EvalFile != nil {
		c.EvalFile = cloneFile(d.EvalFile)
	}
	return &c
}

func cloneFile(f *task.File) *task.File {
	c := *f
	c.Report.Skipped = slices.Clone(f.Report.Skipped)
	return &c
}

// Digest identifies the data's content (the files' SHA-256), for
// checkpoints: a resume on changed data would draw other questions.
func (d *Data) Digest() string {
	if d == nil {
		return ""
	}
	s := d.File.SHA256
	if d.EvalFile != nil {
		s += "+" + d.EvalFile.SHA256
	}
	return s
}

// fit leaves out the rows that reason rejects (recording them as skips of
// their files) and fails when no training row, or no held-out question
// while evaluating, is left.
func (d *Data) fit(train, heldOut func(task.Example) string, evaluating bool) error {
	d.Train = d.File.Report.Drop(d.Train, train)
	rep := &d.File.Report
	if d.EvalFile != nil {
		rep = &d.EvalFile.Report
	}
	d.HeldOut = rep.Drop(d.HeldOut, heldOut)
	if len(d.Train) == 0 {
		held := ""
		switch {
		case d.HeldRows > 0 && d.EvalFile == nil:
			held = fmt.Sprintf("; %d of the kept rows are held out for evaluation (their questions are the %g%% of the data's held out when eval_data is not given)", d.HeldRows, 100*task.DataHeldOut)
		case d.HeldRows > 0:
			held = fmt.Sprintf("; %d of the kept rows ask questions of eval_data %s, so are not trained on", d.HeldRows, d.EvalFile.Path)
		}
		return fmt.Errorf("data %s: no training row fits the models: %s%s", d.File.Path, d.File.Report.Summary(3), held)
	}
	if len(d.HeldOut) == 0 && evaluating {
		// What to do: the run refused had rows to train on. Held out by
		// their questions' hash, the rows left out may be the data's only
		// long ones, and nothing said how to go on.
		name := "data " + d.File.Path + ": no held-out question fits the models"
		do := fmt.Sprintf("the evaluation's questions are the %g%% of the data's held out (by a hash of each question): give eval_data = FILE ("+shell.Program()+" train --eval-data FILE) of questions that fit, %s", 100*task.DataHeldOut, evalEveryZero())
		if d.EvalFile != nil {
			name = "eval_data " + d.EvalFile.Path + ": no question fits the models"
			do = "give an eval_data of questions that fit, " + evalEveryZero()
		}
		return fmt.Errorf("%s: %s; %s", name, rep.Summary(3), do)
	}
	return nil
}

// evalEveryZero is the way to train without evaluating. There is no
// --eval-every flag, so "set eval_every = 0" alone left a run of flags only
// (rlt train --data) with nowhere to set it: the key goes in a --config
// file. rlt run has no --data flag, so its data run has one already; rlt
// train's --print-config, given the same flags, prints one to start from.
func evalEveryZero() string {
	return "or set eval_every = 0 in the run's --config file to train without evaluating (no flag sets it; with flags only, " +
		shell.Program() + " train --print-config and the same flags print a file to start from)"
}

// FitReason rejects an example whose teacher prompt or student context,
// with an explanation of the full maxNew budget, would exceed its model's
// positions in pos (rlt.Positions.Room, the rule the scorer and sampling
// keep): the teacher's explanations of it would be cut short of the
// budget. Use it with task.Report.Drop.
func FitReason(tok rlt.Encoder, p record.Prompts, maxNew int, pos rlt.Positions) func(task.Example) string {
	return func(ex task.Example) string {
		teacher, student := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
		return LengthsFitReason(maxNew, pos, ex.Question, teacher, student, "")
	}
}

// LengthsFitReason is FitReason's reason for an example of question whose
// teacher prompt and student context take teacher and student tokens
// (rlt.PromptLengths), for a caller that checks them against more than
// one pair of positions (rlt distill --best-of: the distilled student's
// and the reward's), measured once. studentDir is the student's folder,
// which a reason of the student's names it by (model.Name), as a task's
// question's refusal does; "" for a student that has none (rlt distill's
// fresh one), "the student".
func LengthsFitReason(maxNew int, pos rlt.Positions, question string, teacher, student int, studentDir string) string {
	_, short := pos.Budget(maxNew, 1, func(int) (string, int, int) { return question, teacher, student })
	if short == nil {
		return ""
	}
	dir := ""
	if short.Who == "student" {
		dir = studentDir
	}
	return tooLong(short.Who, dir, short.Prompt, maxNew, short.Positions)
}

// rowsRead is the rows of the data file: those its Report kept and the
// repeats left out after it (Repeated), which Summary and warning both
// count in.
func (d *Data) rowsRead() int { return d.File.Report.Rows + len(d.Repeated) }

// Summary describes the data in one line: rows read, trained on, held out
// and skipped.
func (d *Data) Summary() string {
	var b strings.Builder
	r := d.File.Report
	fmt.Fprintf(&b, "data %s: %s: %d for training, %d held out", d.File.Path, jsonerr.Rows(d.rowsRead()), len(d.Train), d.HeldRows)
	if d.EvalFile != nil {
		fmt.Fprintf(&b, " (their questions are in eval_data)")
	}
	fmt.Fprintf(&b, ", %d skipped", len(r.Skipped))
	if len(d.Repeated) > 0 {
		fmt.Fprintf(&b, ", %d repeats left out", len(d.Repeated))
	}
	if d.EvalFile != nil {
		er := d.EvalFile.Report
		fmt.Fprintf(&b, "; eval_data %s: %s, %d skipped", d.EvalFile.Path, jsonerr.Rows(er.Rows), len(er.Skipped))
	}
	fmt.Fprintf(&b, "; %d distinct held-out questions for evaluation", len(d.HeldOut))
	return b.String()
}

// DataWarning is what a data run left out, sent once as a non-fatal
// event.Error when Run starts: skipped rows with their line numbers and
// reasons, the rows left out as repeats (Data.Repeated), and an
// evaluation smaller than eval_questions.
type DataWarning struct{ Msg string }

func (w *DataWarning) Error() string { return w.Msg }

// warning returns the data's DataWarning, or nil when nothing was left out.
func (d *Data) warning(c runconfig.Config) error {
	var parts []string
	for _, f := range []*task.File{d.File, d.EvalFile} {
		name := "data"
		if f == d.EvalFile {
			name = "eval_data"
		}
		if w := SkipWarning(name, f); w != "" {
			parts = append(parts, w)
		}
	}
	if n := len(d.Repeated); n > 0 {
		parts = append(parts, fmt.Sprintf("data %s: left out %d of its %s, %s (%s): the teacher explains each question anew, so a repeat only trained it on the same question again (a file of "+shell.Program()+" distill --samples-out holds each question once per sample)",
			d.File.Path, n, jsonerr.Rows(d.rowsRead()), record.RepeatedRows, linesSaid(exampleLines(d.Repeated))))
	}
	if c.EvalEvery > 0 && len(d.HeldOut) < c.EvalQuestions {
		parts = append(parts, fmt.Sprintf("evaluating on %d held-out questions, fewer than eval_questions = %d", len(d.HeldOut), c.EvalQuestions))
	}
	if len(parts) == 0 {
		return nil
	}
	return &DataWarning{Msg: strings.Join(parts, "\n")}
}

// exampleLines is the lines of exs.
func exampleLines(exs []task.Example) []int {
	lines := make([]int, len(exs))
	for i, ex := range exs {
		lines[i] = ex.Line
	}
	return lines
}

// repeatsTrained counts the rows of Repeated that an rlt training on every
// row (before task.Repeated) drew questions from: those whose question and
// solution are a training row's. A repeat's question is held out, and its
// lengths fit the models, as its first row's are, so the count is the same
// before New's fit and after it. A synthetic task (nil) has none.
func (d *Data) repeatsTrained() int {
	if d == nil {
		return 0
	}
	type asked struct{ question, solution string }
	train := make(map[asked]bool, len(d.Train))
	for _, ex := range d.Train {
		train[asked{ex.Question, ex.Solution}] = true
	}
	n := 0
	for _, ex := range d.Repeated {
		if train[asked{ex.Question, ex.Solution}] {
			n++
		}
	}
	return n
}

// linesSaid names lines as a note does (jsonerr.Lines): the first ten.
func linesSaid(lines []int) string {
	return jsonerr.Lines(lines[:min(len(lines), 10)], len(lines))
}

// dataQuestions draws each step's questions from the data's training rows:
// position step·n+i of an endless sequence of epochs, each a permutation of
// the rows seeded by (seed, epoch). The batch is a function of (seed, step,
// n) and the rows alone, so a resumed run sees the same questions.
type dataQuestions struct {
	rows []rlt.Example
	seed uint64

	mu    sync.Mutex
	epoch int
	perm  []int
}

func newDataQuestions(exs []task.Example, seed uint64) *dataQuestions {
	rows := make([]rlt.Example, len(exs))
	for i, ex := range exs {
		rows[i] = rlt.Example{Question: ex.Question, Solution: ex.Solution}
	}
	return &dataQuestions{rows: rows, seed: seed, epoch: -1}
}

// order is epoch's permutation of the rows: a Fisher–Yates shuffle driven
// by PCG's fixed output (not math/rand's helpers, whose algorithms may
// change between Go releases).
func (q *dataQuestions) order(epoch int) []int {
	if q.epoch == epoch {
		return q.perm
	}
	n := len(q.rows)
	if q.perm == nil {
		q.perm = make([]int, n)
	}
	for i := range q.perm {
		q.perm[i] = i
	}
	src := rand.NewPCG(q.seed, 0x6a09e667f3bcc908^uint64(epoch))
	for i := n - 1; i > 0; i-- {
		j, _ := bits.Mul64(src.Uint64(), uint64(i+1))
		q.perm[i], q.perm[j] = q.perm[j], q.perm[i]
	}
	q.epoch = epoch
	return q.perm
}

// Batch implements rlt.Questions.
func (q *dataQuestions) Batch(step, n int) []rlt.Example {
	q.mu.Lock()
	defer q.mu.Unlock()
	size := len(q.rows)
	if size == 0 {
		return nil // the trainer reports the missing questions
	}
	out := make([]rlt.Example, n)
	for i := range out {
		pos := step*n + i
		out[i] = q.rows[q.order(pos / size)[pos%size]]
	}
	return out
}
