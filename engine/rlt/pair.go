package rlt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// Pair is the method's two models: a teacher that explains a question
// whose solution it is given, and a student that reads the explanation.
// They share one tokenizer (Tok) and one prompt format (Prompts). Every
// use of the method is built on a Pair: GRPO (Trainer), the reward
// (Scorer), evaluation and distillation (Explain, Reconstruct). The
// student's context is laid out here once (StudentSequence).
//
// The one tokenizer rule: teacher and student are tokenized by the same
// vocabulary, token for token (SameVocabulary), and each model's embedding
// table has at least a row per token. The tables may be padded
// differently (Qwen2.5-7B has 152,064 rows, 0.5B and 1.5B 151,936): only
// the rows below the tokenizer's size are tokens, so when the tables
// differ the two models' distributions are compared over those rows
// (Shared) and each model's padding rows are left out of its softmax.
type Pair struct {
	Teacher, Student *model.Model
	Tok              TextTokenizer
	Prompts          record.Prompts

	stops []int32
}

// NewPair checks that teacher and student can share tok: both on one
// backend, each with an embedding row per token.
func NewPair(teacher, student *model.Model, tok TextTokenizer, prompts record.Prompts) (*Pair, error) {
	if teacher.Backend() != student.Backend() {
		return nil, fmt.Errorf("pair: teacher and student must live on one backend")
	}
	for _, m := range []struct {
		who string
		m   *model.Model
	}{{"teacher", teacher}, {"student", student}} {
		if tok.VocabSize() > m.m.Cfg.Vocab {
			return nil, fmt.Errorf("pair: the tokenizer has %d tokens but the %s's embedding table only %d rows", tok.VocabSize(), m.who, m.m.Cfg.Vocab)
		}
	}
	return &Pair{Teacher: teacher, Student: student, Tok: tok, Prompts: prompts, stops: StopIDs(tok)}, nil
}

// LoadPair loads the teacher and student model folders (each with its
// tokenizer.json) onto be: the tokenizers must hold the same vocabulary
// (SameVocabulary), and the teacher's is the pair's.
func LoadPair(be compute.Backend, teacherDir, studentDir string, prompts record.Prompts) (*Pair, error) {
	return LoadPairAs(context.Background(), be, teacherDir, studentDir, prompts, model.Float32, model.Float32)
}

// LoadPairAs is LoadPair with a choice of precision for each model
// (model.Frozen16 keeps a 16-bit checkpoint's matrices in 16 bits; a model
// so loaded cannot be trained) and a context that stops the load
// (model.LoadAs): CheckPair, then PairFolders.Load.
//
// The folders' chat templates are not checked here: a caller refuses a
// folder that is not ChatML (CheckChatMLPair) before it opens a device or
// makes a run folder, and that check is the load's one.
func LoadPairAs(ctx context.Context, be compute.Backend, teacherDir, studentDir string, prompts record.Prompts, teacherP, studentP model.Precision) (*Pair, error) {
	f, err := CheckPair(teacherDir, studentDir)
	if err != nil {
		return nil, err
	}
	return f.Load(ctx, be, prompts, teacherP, studentP)
}

// PairFolders is a teacher's and a student's model folders as CheckPair
// read them, before any weights: the pair's tokenizer (the teacher's
// tokenizer.json, which the student's matches) and each folder's
// config.json. A command that checks the folders before it opens a device
// loads the pair from here (Load), so each tokenizer.json is read once,
// not again by the load (Qwen's is 11 MB).
type PairFolders struct {
	TeacherDir, StudentDir string
	Tok                    *tokenizer.Tokenizer
	// Teacher and Student are the folders' config.json.
	Teacher, Student model.Config
}

// CheckPair checks the teacher and student model folders against the
// pair's rule from their files alone, before any device opens or weights
// load: each a model folder with a tokenizer.json (FolderTokenizer), the
// two tokenizers one vocabulary (SameVocabulary), and each embedding with
// a row for every token (config.json's vocab_size). It is LoadPairAs's
// check, and the one a command makes before it opens a device (rlt eval,
// rlt score), so each is said in one wording: the model it is of first
// ("teacher: ", "student: "), its folder, what is wrong and, where there
// is a way, what to do.
func CheckPair(teacherDir, studentDir string) (*PairFolders, error) {
	return CheckPairWith(nil, teacherDir, studentDir)
}

// CheckPairWith is CheckPair that takes the teacher's tokenizer from read,
// an earlier read of it (ReadFolderTokenizer, a run's configuration check:
// run.Check), where teacherDir's tokenizer.json holds the same bytes still,
// rather than parse it again (half a second of CPU for a Qwen tokenizer
// of 151k tokens); a file changed since is parsed, as CheckPair parses it.
// read may be nil.
func CheckPairWith(read *TokenizerRead, teacherDir, studentDir string) (*PairFolders, error) {
	f := &PairFolders{TeacherDir: teacherDir, StudentDir: studentDir}
	tr, data, err := readFolderTokenizer(teacherDir, read)
	if err != nil {
		return nil, fmt.Errorf("teacher: %w", err) // "teacher: tokenizer: FILE: …"
	}
	tok := tr.Tok
	if !sameTokenizerAs(data, studentDir) { // else the teacher's vocabulary, not parsed again
		stok, err := FolderTokenizer(studentDir)
		if err != nil {
			return nil, fmt.Errorf("student: %w", err)
		}
		if err := SameVocabulary(tok, stok); err != nil {
			return nil, fmt.Errorf("teacher %s and student %s: %w: give a student whose tokenizer.json is the teacher's (a model of its family)", teacherDir, studentDir, err)
		}
	}
	// Each embedding needs a row per token (NewPair checks it again):
	// said here, before the weights load, naming the folder and its key.
	for _, m := range []struct {
		who, dir string
		cfg      *model.Config
	}{{"teacher", teacherDir, &f.Teacher}, {"student", studentDir, &f.Student}} {
		cfg, _, err := model.Inspect(m.dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.who, err) // "teacher: model DIR: …"
		}
		if err := TokenizerRows(m.who, m.dir, tok.VocabSize(), cfg.Vocab); err != nil {
			return nil, err
		}
		*m.cfg = cfg
	}
	f.Tok = tok
	return f, nil
}

// Positions is the checked folders' models' positions, from their
// config.json.
func (f *PairFolders) Positions() Positions {
	return Positions{Teacher: f.Teacher.MaxPos, Student: f.Student.MaxPos}
}

// Load loads the checked folders' models onto be, the pair taking the
// tokenizer CheckPair read. A cancelled ctx stops it before the next
// tensor (model.LoadAs), the teacher loaded before it dropped too.
func (f *PairFolders) Load(ctx context.Context, be compute.Backend, prompts record.Prompts, teacherP, studentP model.Precision) (*Pair, error) {
	teacher, err := model.LoadAs(ctx, be, f.TeacherDir, teacherP)
	if err != nil {
		return nil, err
	}
	student, err := model.LoadAs(ctx, be, f.StudentDir, studentP)
	if err != nil {
		return nil, err
	}
	return NewPair(teacher, student, f.Tok, prompts)
}

// SameTokenizerFile reports whether the model folders a and b both hold a
// readable tokenizer.json, of the same bytes: b's vocabulary is then a's,
// and a check of it against a's (SameVocabulary) need not parse it, which
// for a Qwen tokenizer of 151k tokens (11 MB) takes half a second. A
// student made with its teacher's tokenizer (rlt model init, rlt distill,
// a model family's folders) holds that very file. False where either
// cannot be read: its reader (FolderTokenizer) says why.
func SameTokenizerFile(a, b string) bool {
	pa := filepath.Join(a, hf.TokenizerFile)
	sa, err := os.Stat(pa)
	if err != nil || !sa.Mode().IsRegular() {
		return false
	}
	if sb, err := os.Stat(filepath.Join(b, hf.TokenizerFile)); err != nil || !sb.Mode().IsRegular() || sb.Size() != sa.Size() {
		return false
	}
	da, err := os.ReadFile(pa)
	return err == nil && sameTokenizerAs(da, b)
}

// sameTokenizerAs is SameTokenizerFile of a tokenizer.json whose bytes
// are data, read already (CheckPairWith's teacher's), and dir's.
func sameTokenizerAs(data []byte, dir string) bool {
	p := filepath.Join(dir, hf.TokenizerFile)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Size() != int64(len(data)) {
		return false
	}
	db, err := os.ReadFile(p)
	return err == nil && bytes.Equal(data, db)
}

// TokenizerRead is a model folder's tokenizer.json as one read parsed it
// (ReadFolderTokenizer): the tokenizer, and the bytes it was parsed from,
// by which a later read of the file (CheckPairWith) knows them unchanged
// and takes the tokenizer, not parsing it again. The bytes are compared
// as the student's file is with the teacher's (sameTokenizerAs): one way
// of knowing a tokenizer.json the same, where a SHA-256 of them was a
// second, and its hash of an 11 MB Qwen file cost 17-31 ms where the
// comparison takes 2-3 ms (a parse: 1.5-2 s, at load 18). They are held
// as long as the tokenizer parsed from them.
type TokenizerRead struct {
	Tok  *tokenizer.Tokenizer
	data []byte
}

// ReadFolderTokenizer is FolderTokenizer that keeps what CheckPairWith
// needs to take the tokenizer rather than parse the file again.
func ReadFolderTokenizer(dir string) (*TokenizerRead, error) {
	r, _, err := readFolderTokenizer(dir, nil)
	return r, err
}

// readFolderTokenizer is ReadFolderTokenizer that returns the file's
// bytes too, and known (not parsing them) where they are known's.
func readFolderTokenizer(dir string, known *TokenizerRead) (*TokenizerRead, []byte, error) {
	path := filepath.Join(dir, hf.TokenizerFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		ff, err := hf.ScanFolder(dir)
		if err != nil {
			return nil, nil, err
		}
		if err := ff.NotAModel(); err != nil {
			return nil, nil, err
		}
		return nil, nil, hf.NoTokenizer(dir)
	}
	data, err := tokenizer.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if known != nil && bytes.Equal(known.data, data) {
		return known, data, nil
	}
	tok, err := tokenizer.LoadData(path, data)
	if err != nil {
		return nil, nil, err
	}
	return &TokenizerRead{Tok: tok, data: data}, data, nil
}

// FolderTokenizer loads the tokenizer.json of the model folder dir. A
// folder with none is said for what it is, as a model's load says it: not
// there (model folder DIR does not exist), a run folder or a training
// checkpoint (hf.FolderFiles.NotAModel), or a folder without one.
func FolderTokenizer(dir string) (*tokenizer.Tokenizer, error) {
	r, _, err := readFolderTokenizer(dir, nil)
	if err != nil {
		return nil, err
	}
	return r.Tok, nil
}

// CheckTokenizerRows refuses the model folder dir (who: "teacher",
// "--student-init", …) when the tokenizer its text is written in has more
// tokens than dir's config.json has embedding rows (vocab_size): a
// tokenizer copied in from another model. Only config.json is read, so a
// command says it before any device opens or weights load, naming the
// folder, its key and what to do, where the model itself would say it
// mid-sampling as an id outside its table.
func CheckTokenizerRows(who, dir string, tokens int) error {
	cfg, _, err := model.Inspect(dir)
	if err != nil {
		return err // "model DIR: …": the folder is named
	}
	return TokenizerRows(who, dir, tokens, cfg.Vocab)
}

// TokenizerRows is CheckTokenizerRows' refusal of dir, whose embedding
// has rows rows, for a tokenizer of tokens tokens: for a caller that has
// read dir's config.json (a run's configuration check).
func TokenizerRows(who, dir string, tokens, rows int) error {
	if tokens > rows {
		return fmt.Errorf("%s %s: its tokenizer.json has %d tokens, but %s's vocab_size is %d: the embedding has no row for the tokens past it, so the tokenizer is not this model's; give the folder the tokenizer.json the model was trained with",
			who, dir, tokens, filepath.Join(dir, hf.ConfigFile), rows)
	}
	return nil
}

// CheckChatML refuses the model folder dir (who: "teacher", "student")
// when its tokenizer_config.json has a chat_template that is not ChatML
// (tokenizer.DetectTemplate): every RLT prompt is ChatML (RLT.md §2), and
// a model trained on another format would be scored, trained or asked to
// explain in one it never saw. A folder with no tokenizer_config.json, or
// one without a chat_template (our own folders have none), is taken as
// ChatML's. The error names the folder and the file, gives the tokenizer
// package's reason (less its "only ChatML is supported", which the next
// clause says) and says what to do. The file is read once. A
// chat_template.jinja beside it (tokenizer.TemplateFileOf) is checked
// first, as transformers reads it first: where it is there, its template
// is the model's, whatever tokenizer_config.json says or lacks.
func CheckChatML(who, dir string) error {
	if found, err := tokenizer.TemplateFileOf(dir); found && err != nil {
		jinja := filepath.Join(dir, hf.ChatTemplateFile)
		what := err.Error()
		var te *tokenizer.Error
		if errors.As(err, &te) {
			what = strings.TrimSuffix(te.Msg, "; only ChatML is supported")
		}
		return fmt.Errorf("%s %s: %s: %s; the RLT prompts are ChatML (<|im_start|>role … <|im_end|>), so this model would be given a format it was not trained on: give a ChatML model (Qwen2, Qwen2.5), or, if this one does take ChatML, remove %s (transformers reads it before tokenizer_config.json's chat_template)",
			who, dir, jinja, what, jinja)
	}
	path := filepath.Join(dir, hf.TokenizerConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		// None (or dir is no folder): model loading says what is wrong
		// with the folder itself.
		return nil
	}
	cfg, err := tokenizer.ParseConfig(path, data)
	var te *tokenizer.Error
	if errors.As(err, &te) {
		// Which it is (not valid JSON, at its line and column, or valid
		// JSON that is no object), said apart from a template that is not
		// ChatML: both were "is not a JSON object (encoding/json's words)".
		return fmt.Errorf("%s %s: %s: %s, so its chat template cannot be checked to be ChatML, the format of the RLT prompts: %s",
			who, dir, path, te.Msg, te.Do)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", who, dir, err)
	}
	if raw, ok := cfg["chat_template"]; !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	if _, err := tokenizer.TemplateOf(path, data); err != nil {
		what := err.Error()
		var te *tokenizer.Error
		if errors.As(err, &te) { // the folder and the file are said here,
			// and why only ChatML will do, which the tokenizer says briefly
			what = te.Key + ": " + strings.TrimSuffix(te.Msg, "; only ChatML is supported")
		}
		return fmt.Errorf("%s %s: %s: %s; the RLT prompts are ChatML (<|im_start|>role … <|im_end|>), so this model would be given a format it was not trained on: give a ChatML model (Qwen2, Qwen2.5), or, if this one does take ChatML, remove chat_template from %s",
			who, dir, path, what, path)
	}
	return nil
}

// CheckChatMLPair is CheckChatML of a teacher's and a student's folders
// (either may be "": none to check); one folder given as both is said once.
func CheckChatMLPair(teacherDir, studentDir string) error {
	if teacherDir != "" && studentDir != "" && filepath.Clean(studentDir) == filepath.Clean(teacherDir) {
		return CheckChatML("teacher and student", teacherDir)
	}
	if teacherDir != "" {
		if err := CheckChatML("teacher", teacherDir); err != nil {
			return err
		}
	}
	if studentDir == "" {
		return nil
	}
	return CheckChatML("student", studentDir)
}

// Vocabulary is what comparing tokenizers needs.
type Vocabulary interface {
	VocabSize() int
	TokenString(id int32) string
}

// SameVocabulary says whether a (the teacher's tokenizer) and b (the
// student's) tokenize alike: SameVocabularyOf, the two named the teacher
// and the student.
func SameVocabulary(a, b Vocabulary) error {
	return SameVocabularyOf("the teacher", a, "the student", b)
}

// SameVocabularyOf says whether a and b tokenize alike: the same tokens
// under the same ids. RLT locates the explanation's ids in both models'
// sequences, so they must. The error names the first token that differs,
// and whose tokenizer has it by aWho and bWho, the roles as the caller's
// user gave them ("the teacher", "--tokenizer-from", "--student-init"):
// a folder given as --tokenizer-from is no teacher, and a refusal that
// called it one named a model the user never gave.
func SameVocabularyOf(aWho string, a Vocabulary, bWho string, b Vocabulary) error {
	n := min(a.VocabSize(), b.VocabSize())
	for id := int32(0); id < int32(n); id++ {
		if x, y := a.TokenString(id), b.TokenString(id); x != y {
			return fmt.Errorf("different tokenizers: token %d is %q for %s and %q for %s; RLT needs one shared tokenizer", id, x, aWho, y, bWho)
		}
	}
	if a.VocabSize() != b.VocabSize() {
		longer, who := a, aWho
		if b.VocabSize() > a.VocabSize() {
			longer, who = b, bWho
		}
		return fmt.Errorf("different tokenizers: %s's has %d tokens, %s's %d; the first differing is token %d, %q, only %s's; RLT needs one shared tokenizer",
			aWho, a.VocabSize(), bWho, b.VocabSize(), n, longer.TokenString(int32(n)), who)
	}
	return nil
}

// StopIDs are the tokenizer's end-of-turn ids (<|im_end|>, <|endoftext|>)
// that end a generation.
func StopIDs(tok interface{ ID(string) (int32, bool) }) []int32 {
	var ids []int32
	for _, s := range []string{record.ImEnd, record.EndOfText} {
		if id, ok := tok.ID(s); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// StopIDs are the pair's end-of-turn ids.
func (p *Pair) StopIDs() []int32 { return p.stops }

// Shared is the number of vocabulary rows the two models' distributions
// are compared over: their whole tables when the tables are alike, else
// the tokenizer's tokens (each model's padding rows left out).
func (p *Pair) Shared() int {
	if p.Teacher.Cfg.Vocab == p.Student.Cfg.Vocab {
		return p.Teacher.Cfg.Vocab
	}
	return p.Tok.VocabSize()
}

// TeacherPrompt is the teacher's context for an example: its ChatML
// prompt with the pre-filled solution and explanation opening.
func (p *Pair) TeacherPrompt(question, solution string) []int32 {
	return p.Tok.Encode(p.Prompts.TeacherPrompt(question, solution))
}

// StudentSequence is the student's context for the pair (StudentLayout).
func (p *Pair) StudentSequence(question, body, solution string) StudentSeq {
	return StudentLayout(p.Tok, p.Prompts, question, body, solution)
}

// Explanation is what the teacher wrote for an example.
type Explanation struct {
	Example
	Prompt   []int32   // the teacher's context (TeacherPrompt)
	IDs      []int32   // the generated ids, the stopping token included
	LogProbs []float32 // their log-probs under the sampling policy
	Text     string    // IDs decoded
	record.Extraction
	// Uncut is, where Pair.Explain cut the explanation to fit the pair's
	// positions (fit), the whole of what the teacher wrote, its text's
	// Extraction, of which the fields above hold the first part; nil
	// where it is whole. A caller that keeps the explanation as written
	// (distillation's rows: run.WriteBestExplanations) judges the whole,
	// as the raw rows are judged, not the part the models scored: the cut
	// one went into the rows unsaid.
	Uncut *record.Extraction
	// UncutText is, where Uncut, the whole text the teacher wrote (Text
	// before the cut), which a record of the sample keeps beside the part
	// (rlt distill --samples-out's "uncut_completion"): the cut lost it,
	// a sample's record keeping only the part the models scored.
	UncutText string
	// CutPast is, where Uncut, which models' positions the whole was
	// past: what cut it, which a caller's advice names (a --reward-student
	// of more positions helps only where the student's cut it).
	CutPast Past
	// Stopped is whether the teacher ended it itself, writing an
	// end-of-turn id (sample.Result.Stopped), rather than running out of
	// the tokens it could write. A cut (Uncut) leaves it as the teacher's
	// sampling ended, the stopping id then gone from IDs: a reader of the
	// cut text alone (--samples-out's finish_reason) could not tell.
	Stopped bool

	// layout is the explanation's two sequences as the models take them
	// (ItemLayout of its Item), which Pair.Explain measured to fit them
	// and the GRPO step's scorer takes as they are (Scorer.scoreLayouts),
	// so each is encoded once a step; the free Explain leaves it empty.
	layout Layout
}

// Item is the explanation as the reward scores it.
func (e Explanation) Item() Item {
	return Item{Question: e.Question, Solution: e.Solution, Explanation: e.Body, Ended: e.Ended}
}

// ExplainOptions is how the teacher writes: Temperature 0 is greedy.
type ExplainOptions struct {
	Temperature, TopP float64
	// MaxNewTokens is the most tokens the free Explain lets the teacher
	// write; Pair.Explain takes its Budget's instead and reads none here.
	MaxNewTokens int
	Seed         uint64
	// OnToken, if set, is told after each sampling step how many tokens
	// each running sequence has now (progress).
	OnToken func(tokens int)
	// Stop, if set, is asked after each sampling step: an error it
	// returns ends the sampling with that error (a cancelled context's).
	Stop func() error
}

// Budget is a batch of examples measured for the teacher to explain
// (Pair.ExplainBudget): the examples, their teacher prompts encoded
// (TeacherPrompt), and the most tokens it may write for each, which every
// one of those prompts leaves room for in the pair's positions.
// Pair.Explain writes within it after the very ids that were measured, so
// a caller that shows the sampling's progress out of Tokens
// (Trainer.Step) has each prompt encoded once, not again by Explain.
type Budget struct {
	exs     []Example
	prompts [][]int32 // exs[i]'s teacher prompt
	tokens  int
}

// Tokens is the most tokens the teacher writes for each example.
func (b Budget) Tokens() int { return b.tokens }

// Explain has the pair's teacher write samples explanations of each of
// b's examples (Explain), each of which the pair's models take whole: the
// scorer (the teacher's and the student's sequences, Positions), GRPO's
// policy loss and the student reading it. The teacher writes at most
// b.Tokens(), the room the longest of the examples' prompts leaves where
// that is less than the tokens asked for (ExplainBudget); o.MaxNewTokens
// is not read. An explanation whose text takes more tokens encoded as the
// models read it than the teacher wrote (a token that re-encodes as
// several, bytes that are no UTF-8 read back as U+FFFD) is cut to its
// first tokens that fit (fit): what the teacher would have written had
// sampling stopped there, each sequence drawing from its own stream; cut
// short, it is not ended. The teacher continues b's prompts, encoded as
// ExplainBudget measured them.
func (p *Pair) Explain(gen *sample.Generator, tape *compute.Tape, b Budget, samples int, o ExplainOptions) ([]Explanation, error) {
	o.MaxNewTokens = b.tokens
	out, err := explain(gen, tape, p.Tok, b.exs, b.prompts, samples, o)
	if err != nil {
		return nil, err
	}
	pos := p.Positions()
	for i := range out {
		p.fit(&out[i], pos)
	}
	return out, nil
}

// ExplainBudget measures exs for Explain: the teacher may write maxNew
// tokens for each, or the room the longest of their prompts leaves in the
// pair's positions (Positions.Budget) where less; a prompt that leaves
// none is a *RoomError, which the caller completes with its own names
// (BudgetName, Shorten). A caller that shows the sampling's progress
// takes its total from the Budget (Trainer.Step), not from maxNew, which
// the teacher may never reach. The Budget keeps the teacher prompts it
// encoded, which Pair.Explain samples after.
func (p *Pair) ExplainBudget(exs []Example, maxNew int) (Budget, error) {
	prompts := make([][]int32, len(exs))
	limit, short := p.Positions().Budget(maxNew, len(exs), func(i int) (string, int, int) {
		teacher, student := Contexts(p.Tok, p.Prompts, exs[i].Question, exs[i].Solution)
		prompts[i] = teacher
		return exs[i].Question, len(teacher), len(student)
	})
	if short != nil && short.Room() < 1 {
		return Budget{}, short
	}
	return Budget{exs: exs, prompts: prompts, tokens: limit}, nil
}

// fit lays e out (e.layout) and cuts it, where its explanation does not
// fit pos (Positions.over of its layout), to its first k tokens: a k
// whose explanation fits and k+1's does not. The tokens an explanation
// takes grow with k, though not always (bytes that complete a character
// take fewer than the U+FFFD they were read as), so k is looked for back
// from the whole by the tokens it is over each time, then by halves
// between a k that fits and one above it that does not. An empty
// explanation fits where Explain let the teacher write (Positions.Room
// above 0).
func (p *Pair) fit(e *Explanation, pos Positions) {
	// fits is the layout of the largest k found to fit, at fitsAt: the
	// cut explanation's where that k is the one cut to.
	var fits Layout
	fitsAt := -1
	var past Past // of the last k measured: the whole's, the first
	over := func(k int) int {
		l := ItemLayout(p.Tok, p.Prompts, e.Question, e.Solution, record.Extract(p.Tok.Decode(e.IDs[:k])).Body)
		past = pos.past(l)
		who, n, limit := pos.over(l)
		if who == "" {
			if k > fitsAt {
				fits, fitsAt = l, k
			}
			return 0
		}
		return n - limit
	}
	hi := len(e.IDs)
	n := over(hi)
	if n == 0 {
		e.layout = fits
		return
	}
	wholePast := past
	lo := max(0, hi-n)
	for lo > 0 {
		if n = over(lo); n == 0 {
			break
		}
		hi, lo = lo, max(0, lo-n)
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; over(mid) == 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	whole := e.Extraction
	e.Uncut, e.CutPast, e.UncutText = &whole, wholePast, e.Text
	e.IDs, e.LogProbs = e.IDs[:lo:lo], e.LogProbs[:lo:lo]
	e.Text = p.Tok.Decode(e.IDs)
	e.Extraction = record.Extract(e.Text)
	if fitsAt != lo { // k = 0, never measured
		fits = ItemLayout(p.Tok, p.Prompts, e.Question, e.Solution, e.Body)
	}
	e.layout = fits
}

// Explain has a teacher (gen, a Generator of it, using tape as scratch)
// write samples explanations of each example under prompts p, in order:
// example 0's samples first. It is the one "teacher explains" loop: GRPO's
// sampling, evaluation and distillation use it.
func Explain(gen *sample.Generator, tape *compute.Tape, tok TextTokenizer, p record.Prompts, exs []Example, samples int, o ExplainOptions) ([]Explanation, error) {
	prompts := make([][]int32, len(exs))
	for i, ex := range exs {
		prompts[i] = tok.Encode(p.TeacherPrompt(ex.Question, ex.Solution))
	}
	return explain(gen, tape, tok, exs, prompts, samples, o)
}

// explain is Explain after the examples' teacher prompts encoded,
// prompts[i] exs[i]'s.
func explain(gen *sample.Generator, tape *compute.Tape, tok TextTokenizer, exs []Example, prompts [][]int32, samples int, o ExplainOptions) ([]Explanation, error) {
	out := make([]Explanation, 0, len(exs)*samples)
	seqs := make([][]int32, 0, len(exs)*samples)
	for i, ex := range exs {
		for range samples {
			out = append(out, Explanation{Example: ex, Prompt: prompts[i]})
			seqs = append(seqs, prompts[i])
		}
	}
	so := sample.Options{Temperature: float32(o.Temperature), TopP: float32(o.TopP),
		MaxNewTokens: o.MaxNewTokens, StopIDs: StopIDs(tok), Seed: o.Seed, AllowedVocab: tok.VocabSize()}
	if o.OnToken != nil || o.Stop != nil {
		so.OnStep = func(step int, _ []sample.StepToken) error {
			if o.OnToken != nil {
				o.OnToken(step + 1)
			}
			if o.Stop != nil {
				return o.Stop()
			}
			return nil
		}
	}
	res, err := gen.Generate(tape, seqs, so)
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		e := &out[i]
		e.IDs, e.LogProbs, e.Stopped = r.IDs, r.LogProbs, r.Stopped()
		e.Text = tok.Decode(r.IDs)
		e.Extraction = record.Extract(e.Text)
	}
	return out, nil
}

// Reconstruct has the student write its greedy solution (at most maxNew
// tokens) after reading each explanation body, with gen, a Generator of
// the student: the text before the solution's end tag (or the end of
// turn).
func (p *Pair) Reconstruct(gen *sample.Generator, tape *compute.Tape, items []Item, maxNew int) ([]string, error) {
	prompts := make([][]int32, len(items))
	for i, it := range items {
		prompts[i] = p.StudentSequence(it.Question, it.Explanation, "").Prompt
	}
	out, err := gen.Generate(tape, prompts, sample.Options{Temperature: 0, MaxNewTokens: maxNew, StopIDs: p.stops,
		StopStrings: []string{record.EndSolution}, Decoder: p.Tok, AllowedVocab: p.Tok.VocabSize()})
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(out))
	for i, r := range out {
		s := p.Tok.Decode(r.IDs)
		for _, tag := range []string{record.EndSolution, record.ImEnd} {
			if k := strings.Index(s, tag); k >= 0 {
				s = s[:k]
			}
		}
		texts[i] = s
	}
	return texts, nil
}
