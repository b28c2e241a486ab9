package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/engine/chatml"
	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// Our system prompts, written for this project with the structure RLT.md §2
// describes: the teacher writes a solution section then an explanation
// section; the student writes a thought section then a solution section.
const (
	DefaultTeacherSystem = "You are a teacher. You are given a question and its correct solution. " +
		"Write the solution between " + BeginSolution + " and " + EndSolution + ", then an explanation " +
		"between " + BeginExplanation + " and " + EndExplanation + " that leads a student, step by step, " +
		"from the question to that solution without assuming it."
	DefaultStudentSystem = "You are a student. Think the question through between " + BeginThought + " and " +
		EndThought + ", then give the final answer between " + BeginSolution + " and " + EndSolution + "."
)

// ExplanationLead is what the teacher's prefill puts after the explanation's
// opening tag. The explanation T that the reward scores starts with it
// (RLT.md §2: everything between the explanation tags of prefill +
// completion), in the teacher's sequence and in the student's alike.
const ExplanationLead = "\n\n"

// Prompts holds the two system prompts (configurable; the tags are fixed).
type Prompts struct {
	TeacherSystem string `toml:"teacher_system" json:"teacher_system"`
	StudentSystem string `toml:"student_system" json:"student_system"`
}

// DefaultPrompts are the long system prompts above, for models that record
// no prompts of their own (see ReadPrompts).
func DefaultPrompts() Prompts {
	return Prompts{TeacherSystem: DefaultTeacherSystem, StudentSystem: DefaultStudentSystem}
}

// Validate says what is wrong with a pair of prompts: an empty one, or one
// holding a ChatML marker, which would end its turn early (the section tags
// may be named: the prompts tell the models the format). Every problem,
// joined (errors.Join), is a *configkey.Error with its key below [prompts]
// ("prompts.teacher_system"), so that a run configuration's Validate shows
// each on its line, as [grpo]'s and [reward]'s are.
func (p Prompts) Validate() error {
	var errs []error
	for _, f := range []struct{ name, who, s string }{{"teacher_system", "teacher", p.TeacherSystem}, {"student_system", "student", p.StudentSystem}} {
		key := "prompts." + f.name
		if strings.TrimSpace(f.s) == "" {
			errs = append(errs, configkey.Errorf(key, "%s is empty: write the %s's system prompt there", f.name, f.who))
			continue
		}
		for _, t := range []string{ImStart, ImEnd, EndOfText} {
			if strings.Contains(f.s, t) {
				errs = append(errs, configkey.Errorf(key, "%s contains the ChatML marker %s, which would end its turn early; remove it", f.name, t))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// TeacherPrefill is the start of the teacher's assistant turn: the solution
// section and the opening of the explanation with its lead, which the
// teacher continues.
func TeacherPrefill(solution string) string {
	return BeginSolution + solution + EndSolution + "\n\n" + BeginExplanation + ExplanationLead
}

// TeacherHead is the teacher's context up to and including the explanation's
// opening tag: TeacherPrompt = TeacherHead + ExplanationLead. The scored
// explanation T (lead and body) follows it.
func (p Prompts) TeacherHead(question, solution string) string {
	return strings.TrimSuffix(p.TeacherPrompt(question, solution), ExplanationLead)
}

// TeacherPrompt renders the teacher's ChatML context with the pre-filled
// assistant turn; the teacher generates what follows.
func (p Prompts) TeacherPrompt(question, solution string) string {
	var b strings.Builder
	chatml.WriteTurn(&b, "system", p.TeacherSystem, true)
	chatml.WriteTurn(&b, "user", question, true)
	chatml.WriteTurn(&b, "assistant", TeacherPrefill(solution), false)
	return b.String()
}

// StudentParts splits the student's context (RLT.md §2) around the
// explanation and the solution, so their tokens can be located:
// Prefix + explanation + Middle + solution + Suffix, where the explanation
// is ExplanationLead + body (rlt.Layout says which tokens are T's).
type StudentParts struct {
	Prefix, Middle, Suffix string
}

// StudentParts returns the pieces of the student context for a question.
func (p Prompts) StudentParts(question string) StudentParts {
	var b strings.Builder
	chatml.WriteTurn(&b, "system", p.StudentSystem, true)
	chatml.WriteTurn(&b, "user", question, true)
	chatml.WriteTurn(&b, "assistant", BeginThought, false)
	return StudentParts{
		Prefix: b.String(),
		Middle: EndThought + "\n\n" + BeginSolution,
		Suffix: EndSolution + ImEnd,
	}
}

// StudentContext renders the whole student context for an explanation body
// (the text after the lead).
func (p Prompts) StudentContext(question, body, solution string) string {
	s := p.StudentParts(question)
	return s.Prefix + ExplanationLead + body + s.Middle + solution + s.Suffix
}

// ParseTeacherPrompt takes the question and the solution out of a teacher
// prompt in the layout of RLT.md §2 (a stored_completions "prompt" cell):
// the question is the content of the last ChatML user turn, the solution
// the text between the solution tags of the pre-filled assistant turn that
// follows it.
func ParseTeacherPrompt(prompt string) (question, solution string, err error) {
	const user = ImStart + "user\n"
	i := strings.LastIndex(prompt, user)
	if i < 0 {
		return "", "", fmt.Errorf("prompt has no %q turn", strings.TrimSpace(user))
	}
	rest := prompt[i+len(user):]
	q, after, ok := strings.Cut(rest, ImEnd)
	if !ok {
		return "", "", fmt.Errorf("prompt's user turn has no %s", ImEnd)
	}
	const asst = ImStart + "assistant\n"
	_, pre, ok := strings.Cut(after, asst)
	if !ok {
		return "", "", fmt.Errorf("prompt has no assistant turn after the question")
	}
	_, rest, ok = strings.Cut(pre, BeginSolution)
	var sol string
	if ok {
		sol, _, ok = strings.Cut(rest, EndSolution)
	}
	if !ok {
		return "", "", fmt.Errorf("prompt's assistant turn has no %s…%s section", BeginSolution, EndSolution)
	}
	return q, sol, nil
}

// Extraction is an explanation taken out of a teacher's completion.
type Extraction struct {
	// Explanation is the text between the explanation tags, starting with
	// the prefill's lead: the span T the reward scores.
	Explanation string
	// Body is what the teacher wrote (Explanation without the lead).
	Body string
	// Ended reports whether the teacher closed the explanation; without it
	// the reward carries the format penalty.
	Ended bool
}

// Extract takes the explanation out of a teacher's generated text (what
// followed the prefill): RLT.md §2. A missing end tag is supplied, and the
// explanation is scored anyway with the format penalty. The completion
// ends at its first end of turn (<|im_end|>, or <|endoftext|>; RLT.md §4),
// where sampling stops: an end tag after it was never written in the turn,
// and the text after it is not the teacher's explanation.
func Extract(generated string) Extraction {
	for _, eot := range [...]string{ImEnd, EndOfText} {
		if i := strings.Index(generated, eot); i >= 0 {
			generated = generated[:i]
		}
	}
	body, _, ended := strings.Cut(generated, EndExplanation)
	return Extraction{Explanation: ExplanationLead + body, Body: body, Ended: ended}
}

// PromptsFile is the file beside config.json in which a model folder made by
// rlt pretrain or saved by a run records the system prompts it was trained
// with.
const PromptsFile = "prompts.json"

// ReadPrompts reads the prompts a model folder records; ok is false (and err
// nil) when it records none.
func ReadPrompts(dir string) (p Prompts, ok bool, err error) {
	if err := hf.FileNotFolder(dir); err != nil {
		return Prompts{}, false, err
	}
	path := filepath.Join(dir, PromptsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Prompts{}, false, nil
	}
	if err != nil {
		return Prompts{}, false, fmt.Errorf("read prompts: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Prompts{}, false, &PromptsFileError{File: path, Err: errors.New(`the file is empty (want {"teacher_system": …, "student_system": …}, or no prompts.json for the default prompts)`)}
	}
	if err := json.Unmarshal(b, &p); err != nil {
		// In the file's words and at its place, not encoding/json's Go
		// types ("cannot unmarshal number into Go struct field …"), and
		// with the way on: it said what the file should hold, not what
		// to do about it.
		pe := &PromptsFileError{File: path, Err: fmt.Errorf("%s (want {\"teacher_system\": …, \"student_system\": …}): %s", jsonerr.At(b, err), promptsFileWayOn)}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			pe.Field = te.Field
		}
		return Prompts{}, false, pe
	}
	if err := p.Validate(); err != nil {
		// Validate keys each problem for a run configuration's [prompts];
		// this is the model folder's file, so each becomes that file's.
		var errs []error
		for _, e := range configkey.Problems(err) {
			errs = append(errs, promptsFileProblem(path, e))
		}
		return Prompts{}, false, errors.Join(errs...)
	}
	return p, true, nil
}

// promptsFileWayOn is what to do about a prompts.json that is no JSON
// object of the two prompts: either fix stands.
const promptsFileWayOn = "fix the file to that form, or remove it to use the default prompts"

// PromptsFileError is a problem with a model folder's prompts.json (File),
// read by ReadPrompts: its JSON, or the prompt in one of its fields. That
// file is not a run configuration, though its fields are named as the
// keys of a run configuration's [prompts] table, so the error is no
// *configkey.Error and wraps none: a caller that puts a configuration's
// problems on the lines of their keys (sessions.LocateValidations) finds
// no key in it, and cannot point at the [prompts] lines of a run
// configuration that is not at fault. errors.As finds it, and File says
// which file to fix.
type PromptsFileError struct {
	File string
	// Field is the JSON field at fault ("teacher_system",
	// "student_system"); empty for a problem with the file as a whole.
	Field string
	// Err is the problem in words, without the file.
	Err error
}

// Error is the problem after its file, in the words a run configuration's
// [prompts] problem has after its table, which names the JSON field
// ("…/prompts.json: teacher_system is empty: …").
func (e *PromptsFileError) Error() string { return e.File + ": " + e.Err.Error() }

// Unwrap is the problem in words, which carries no configuration key.
func (e *PromptsFileError) Unwrap() error { return e.Err }

// promptsFileProblem is problem, one of Validate's with its [prompts] key,
// as a problem of the prompts.json at path: the field the key names, and
// its words with the key left behind.
func promptsFileProblem(path string, problem error) *PromptsFileError {
	pe := &PromptsFileError{File: path}
	words := problem
	var ke *configkey.Error
	if errors.As(problem, &ke) {
		_, pe.Field, _ = configkey.Split(ke.Key)
		words = ke.Err // the field's words, not the configuration's key path
	}
	pe.Err = errors.New(words.Error())
	return pe
}

// WritePrompts records p in a model folder.
func WritePrompts(dir string, p Prompts) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the prompts' tags (<|begin_of_solution|>) read as themselves
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return err
	}
	// durable.Write's error says "write PATH: …", the file named once.
	return durable.WriteFile(filepath.Join(dir, PromptsFile), b.Bytes(), 0o644)
}

// ModelsPrompts are the models' own prompts, PromptsFor's with no
// override: those the teacher's folder records, else the student's, else
// DefaultPrompts; file is the prompts.json they were read from, "" for the
// defaults (for a command to say where its prompt came from), or with err
// the one that could not be read (for a caller to say what to mend).
func ModelsPrompts(teacherDir, studentDir string) (p Prompts, file string, err error) {
	return ModelsPromptsOr(teacherDir, studentDir, nil)
}

// ModelsPromptsOr is ModelsPrompts where a folder that is not there, whose
// prompts.json would decide (the teacher's, or the student's past a
// teacher that records none), is gone's error (key "teacher" or
// "student"), not a folder without prompts.json: for a caller that reads
// the prompts a run took from folders named long ago (sessions'
// Run.ModelsPrompts), where the defaults in their place would be a guess.
// gone nil is ModelsPrompts.
func ModelsPromptsOr(teacherDir, studentDir string, gone func(key, dir string) error) (p Prompts, file string, err error) {
	for _, m := range []struct{ key, dir string }{{"teacher", teacherDir}, {"student", studentDir}} {
		dir := m.dir
		if dir == "" {
			continue
		}
		if gone != nil {
			if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
				return Prompts{}, "", gone(m.key, dir)
			}
		}
		rec, ok, err := ReadPrompts(dir)
		if err != nil {
			return Prompts{}, filepath.Join(dir, PromptsFile), err
		}
		if ok {
			return rec, filepath.Join(dir, PromptsFile), nil
		}
	}
	return DefaultPrompts(), "", nil
}

// PromptsFor is the one rule for the prompts a command uses with models in
// teacherDir and studentDir (either may be ""): the prompts the teacher's
// folder records, else the student's (PromptsFile), else DefaultPrompts;
// each non-empty field of override (a flag, a run's configuration)
// replaces its own.
func PromptsFor(teacherDir, studentDir string, override Prompts) (Prompts, error) {
	p, _, err := ModelsPrompts(teacherDir, studentDir)
	if err != nil {
		return Prompts{}, err
	}
	if override.TeacherSystem != "" {
		p.TeacherSystem = override.TeacherSystem
	}
	if override.StudentSystem != "" {
		p.StudentSystem = override.StudentSystem
	}
	return p, nil
}
