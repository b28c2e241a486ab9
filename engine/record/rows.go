package record

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/shell"
)

// RowExample is a row as a message shows one: what a line of a data file
// (or of rlt score's stdin) should be.
const RowExample = `{"question": "347+285=?", "solution": "632"}`

// Row is one JSON Lines row of RLT data, in either layout (RLT.md §5):
//
//   - flat: "question" (or "prompt", as the official RLT code names it),
//     "solution", and optionally "explanation" (or "reasoning_trace", the
//     official name), "completion" (a teacher's raw output, whose
//     explanation is extracted), numeric "reward", "reward_config" (kept
//     as written: Row.RewardConfig), "cut" (Row.Cut), "kept"
//     (Row.NotKept) and "id";
//   - Bespoke-Stratos: "conversations" with a user turn (the question) and
//     an assistant turn "<|begin_of_thought|>E<|end_of_thought|>\n\n
//     <|begin_of_solution|>S<|end_of_solution|>" (E is the explanation,
//     and may be absent); "system" and "id" are optional;
//   - chat messages: "messages", the Stratos row's turns as "role" and
//     "content", its system prompt a first "system" turn (NewMessagesWriter),
//     where the row has no "question" or "prompt".
//
// Text is kept verbatim; what a reader requires beyond a question and a
// solution (an explanation, no reserved tags, trimming) is its own rule.
type Row struct {
	ID          string // "id", if given
	Question    string
	Solution    string
	Explanation string // the explanation body (after the prefill's lead)
	// ExplanationFrom names where Explanation came from: "explanation",
	// "reasoning_trace", "completion", "conversations", or "" when the row
	// has none.
	ExplanationFrom string
	// Completion is the teacher's raw output when the row gave one; Ended
	// says whether it closed the explanation (true for every other row).
	Completion string
	Ended      bool
	Reward     float64
	HasReward  bool
	// RewardConfig is the row's "reward_config", its JSON text as written,
	// unread ("" when absent or null): the reward a line of rlt distill
	// --samples-out was ranked with, which rlt score scores it with
	// (ParseRewardConfig). Left unread, so that a reader that has no use
	// for it (a data file's) never refuses a row for it; text, not a
	// json.RawMessage, so that a Row stays comparable.
	RewardConfig string
	// Cut is the row's "cut": true where rlt distill --samples-out says
	// its completion was cut short to fit the models that scored it, the
	// first part of what the teacher wrote, which is no explanation to
	// learn from or review as the teacher's (rlt distill never keeps one;
	// rlt import and rlt distill --data --reference leave it out, said in
	// CutRowReason's words). A "cut" that is no JSON boolean is another
	// writer's field, not read.
	Cut bool
	// NotKept is the row's "kept": false, where rlt distill --samples-out
	// says its ranking did not keep the sample: one of a question's N
	// samples that lost to another, or of a question that kept none. Its
	// explanation is no row of what rlt distill distills (rlt distill
	// --data --reference leaves it out); a "kept" that is true, null, or
	// no JSON boolean (another writer's field) leaves it false.
	NotKept bool
	// Kept is the row's "kept": true, where rlt distill --samples-out says
	// its ranking kept the sample, one a question: rlt import takes each
	// question's kept sample once (Repeated), where a file of two
	// rankings joined would have it reviewed and exported twice. A row
	// without the field (jq's del(.kept)) is neither Kept nor NotKept.
	Kept    bool
	System  string // a Stratos row's system prompt
	Stratos bool   // the row was a "conversations" record
	// Both is true when a flat row gave both "explanation" and "completion"
	// (Explanation is then the "explanation" field's).
	Both bool
}

// RepeatedRows is what every reader that takes each question once says of
// the rows it leaves out as repeats (Repeated): rlt train, rlt distill,
// rlt eval and rlt import, each followed by the lines and its own why.
const RepeatedRows = "each an earlier row's question with its solution"

// Repeated is the each-question-once rule: a test of a row asking an
// earlier row's question with its solution (the rows it has been asked
// of, in order; each call a new test). One rule for every reader that
// applies it (task.Repeated for the data readers, rlt import's kept
// rows), so that they leave out the same rows.
func Repeated() func(question, solution string) bool {
	type asked struct{ question, solution string }
	seen := map[asked]bool{}
	return func(question, solution string) bool {
		k := asked{question, solution}
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	}
}

// CutRowReason is why a reader that would take a row's explanation as the
// teacher's whole one leaves out a row marked "cut" (Row.Cut): rlt import
// and rlt distill --data --reference say it at the row's line, each
// followed by what it did not make of the row ("; not imported as an
// explanation"). One owner of the words, so that the two say one thing;
// a func, as the words name the command as the user started the program
// (shell.Program), known once main has run.
func CutRowReason() string {
	return `"cut": true: its completion was cut short to fit the models that scored it (` + shell.Program() + ` distill --samples-out), only the first part of what the teacher wrote, and ` + shell.Program() + ` distill never keeps such a sample`
}

// RowError says why a row could not be read, and which field (if one) is
// at fault.
type RowError struct {
	Field string
	Msg   string
	// Fix, where set, says what to do about every row of this one's
	// shape, with the jq command that rewrites a whole file of them: in
	// is the file read and out the file written, each one word of the
	// command. A file's reader (task.ReadFile, rlt import's traces) says
	// it once for the file, with the file's own path (FixFiles); Error
	// says it with FILE. It was said at every listed line, with FILE for
	// the path the reader had.
	Fix func(in, out string) string
}

func (e *RowError) Error() string {
	if e.Fix == nil {
		return e.Msg
	}
	return e.Msg + e.Fix("FILE", "rows.jsonl")
}

// FixFiles are the file a RowError.Fix's command reads and the one it
// writes, each one word of a command (shell.Quote), for a file of rows at
// path: FILE and rows.jsonl where path is not known; else path and the
// name beside it with -fixed before its extension, never path itself (a
// jq that writes the file it reads empties it first). task.ReadFile's
// data files and rlt import's traces files say them alike.
func FixFiles(path string) (in, out string) {
	if path == "" {
		return "FILE", "rows.jsonl"
	}
	ext := filepath.Ext(path)
	return shell.Quote(path), shell.Quote(strings.TrimSuffix(path, ext) + "-fixed" + cmp.Or(ext, ".jsonl"))
}

func rowErr(field, format string, a ...any) *RowError {
	return &RowError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// RewardPastRange says a reward written as a number float64 cannot hold
// (1e999) in field: a number, past its range, not one to take as ±Inf. A
// traces row's "reward", an official stored_completions CSV's reward
// column and a NeMo-RL data row's "rewards" are refused in these words.
func RewardPastRange(field, number string) string {
	return fmt.Sprintf(`field %q is %s, out of float64's range (about ±1.8e308): give a reward within it`, field, number)
}

// ParseRow reads one row (a leading byte-order mark is not part of it). It
// fails on something that is not a JSON object, an object that is not
// UTF-8 (naming the first stray byte), a text field (or a Stratos turn,
// its system prompt, a text id) holding a lone UTF-16 surrogate escape
// (jsonerr.Surrogates), a field of
// the wrong type, a missing question or solution, "question" and "prompt"
// both given and different, and a Stratos record whose turns or sections
// are not as above.
func ParseRow(raw []byte) (Row, error) {
	raw = TrimByteOrderMark(bytes.TrimSpace(raw)) // a file's first row may start with one
	// Before the JSON: encoding/json says a stray byte outside a string as
	// the Latin-1 character it would be ("invalid character 'ÿ'" for 0xff),
	// a character the row does not hold.
	if err := checkUTF8(raw); err != nil {
		return Row{}, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		if msg := jsonerr.NotJSONLine(raw, err, RowExample); msg != "" {
			return Row{}, rowErr("", "%s", msg)
		}
		return Row{}, rowErr("", "not a JSON object")
	}
	if m == nil {
		return Row{}, rowErr("", "not a JSON object")
	}
	var r Row
	r.Ended = true
	var err *RowError
	// A text id holding half a UTF-16 surrogate pair is refused, as a text
	// field holding one is: it was the row's rowN without a word, a row
	// its own id no longer finds in what the run writes.
	if id := m["id"]; len(id) > 0 && id[0] == '"' {
		if err := jsonerr.Surrogates(`field "id"`, id); err != nil {
			return Row{}, rowErr("id", "%v", err)
		}
	}
	if r.ID, _, err = str(m, "id"); err != nil {
		r.ID = "" // a malformed id (a number, a list) is not worth losing the row for: it is the row's rowN
	}
	if conv, ok := m["conversations"]; ok && string(conv) != "null" {
		return stratosRow(m, conv, r)
	}
	// A row with a question of its own is a flat row, whatever else it
	// carries (another writer's "messages" field).
	_, hasQ := m["question"]
	_, hasP := m["prompt"]
	if msgs, ok := m["messages"]; ok && string(msgs) != "null" && !hasQ && !hasP {
		return messagesRow(msgs, r)
	}
	q, qok, err := str(m, "question")
	if err != nil {
		return Row{}, err
	}
	if raw := bytes.TrimSpace(m["prompt"]); len(raw) > 0 && raw[0] == '[' {
		return Row{}, &RowError{Field: "prompt", Msg: chatPrompt, Fix: verlRows}
	}
	p, pok, err := str(m, "prompt")
	if err != nil {
		return Row{}, err
	}
	switch {
	case qok && pok && strings.TrimSpace(q) != strings.TrimSpace(p):
		return Row{}, rowErr("question", `fields "question" and "prompt" both present and different`)
	case !qok && !pok:
		return Row{}, missing(m, "question", `missing field "question" (or "prompt")`, questionNames)
	case !qok:
		q = p
	}
	sol, sok, err := str(m, "solution")
	if err != nil {
		return Row{}, err
	}
	if !sok {
		return Row{}, missing(m, "solution", `missing field "solution"`, solutionNames)
	}
	r.Question, r.Solution = q, sol
	for _, k := range []string{"explanation", "reasoning_trace"} {
		e, ok, err := str(m, k)
		if err != nil {
			return Row{}, err
		}
		if ok {
			r.Explanation, r.ExplanationFrom = e, k
			break
		}
	}
	c, cok, err := str(m, "completion")
	if err != nil {
		return Row{}, err
	}
	if cok {
		r.Completion = c
		if r.ExplanationFrom == "explanation" {
			r.Both = true
		} else {
			x := Extract(c)
			r.Explanation, r.ExplanationFrom, r.Ended = x.Body, "completion", x.Ended
		}
	}
	if raw, ok := m["reward"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &r.Reward); err != nil {
			// A JSON number float64 cannot hold (1e999) is a number, past
			// its range: it was said to be no number at all.
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && strings.HasPrefix(te.Value, "number") {
				return Row{}, rowErr("reward", "%s", RewardPastRange("reward", string(raw)))
			}
			return Row{}, rowErr("reward", `field "reward" is not a number`)
		}
		r.HasReward = true
	}
	if raw, ok := m["reward_config"]; ok && string(raw) != "null" {
		r.RewardConfig = string(raw)
	}
	if raw, ok := m["cut"]; ok {
		_ = json.Unmarshal(raw, &r.Cut) // another writer's "cut" of another type is not ours
	}
	if raw, ok := m["kept"]; ok {
		var kept *bool // null leaves it nil: not said false
		if json.Unmarshal(raw, &kept) == nil && kept != nil {
			r.NotKept, r.Kept = !*kept, *kept
		}
	}
	return r, nil
}

// byteOrderMark is U+FEFF in UTF-8, which Windows tools put at the start of
// a text file.
var byteOrderMark = []byte("\xef\xbb\xbf")

// TrimByteOrderMark drops a leading byte-order mark: a file's first line
// may start with one, and it is no part of the line.
func TrimByteOrderMark(line []byte) []byte { return bytes.TrimPrefix(line, byteOrderMark) }

// CheckUTF8 says where a line that is not UTF-8 first goes wrong (nil when
// it is UTF-8): each line of JSON Lines in must be, and decoding would
// turn a stray byte into U+FFFD, text the line never held.
func CheckUTF8(line []byte) error {
	if e := checkUTF8(line); e != nil {
		return e
	}
	return nil
}

// checkUTF8 refuses a row that is not UTF-8, as JSON must be: decoding
// would turn each stray byte (a Latin-1 "é") into U+FFFD, text the row
// never held.
func checkUTF8(raw []byte) *RowError {
	if utf8.Valid(raw) {
		return nil
	}
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return rowErr("", "not UTF-8: byte %d of the row, %#x, is not a UTF-8 character; save the file as UTF-8 (from Latin-1: iconv -f LATIN1 -t UTF-8)", i+1, raw[i])
		}
		i += n
	}
	return nil
}

// questionNames and solutionNames are the names other datasets give a
// row's question and its solution (MATH's "problem", GSM8K's "answer",
// instruction sets' "instruction"/"input" and "output"/"response"),
// which a missing field's refusal names where the row holds one.
var (
	questionNames = []string{"problem", "query", "instruction", "input"}
	solutionNames = []string{"answer", "response", "output", "target"}
)

// missing is the refusal msg of a row m without the field want, naming
// the field of m that may be it under another name: one of names, or want
// or "prompt" in another case ("Question"; keys are matched exactly),
// holding text, with the jq that copies it to want (RowError.Fix). A GSM8K
// row, {"question", "answer"}, was refused as 'missing field "solution"'
// alone.
func missing(m map[string]json.RawMessage, want, msg string, names []string) *RowError {
	var found string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if raw := bytes.TrimSpace(m[k]); len(raw) == 0 || raw[0] != '"' {
			continue
		}
		if strings.EqualFold(k, want) || want == "question" && strings.EqualFold(k, "prompt") {
			found = k
			break
		}
		if found == "" && slices.Contains(names, strings.ToLower(k)) {
			found = k
		}
	}
	if found == "" {
		return &RowError{Field: want, Msg: msg}
	}
	return &RowError{Field: want, Msg: fmt.Sprintf("%s; the row has %q", msg, found), Fix: func(in, out string) string {
		return fmt.Sprintf(`: if that is its %s, name it %q (jq -c '.%s = .%s' %s > %s writes every row so)`, want, want, want, found, in, out)
	}}
}

// chatPrompt says a row whose "prompt" is a list of chat turns, as verl's
// datasets (the question in the last user turn, the answer in
// reward_model.ground_truth) and TRL's conversational rows hold it, and
// verlRows the jq that writes a verl file's rows as ours: it was 'field
// "prompt" is not a string', and no word of what a row wants instead.
const chatPrompt = `field "prompt" is a list of chat turns (verl's and TRL's layout); a row's question is text, beside its solution: ` + RowExample

func verlRows(in, out string) string {
	return ` (a verl file's rows, as JSON Lines: jq -c '{question: .prompt[-1].content, solution: (.reward_model.ground_truth | tostring)}' ` + in + ` > ` + out + `)`
}

// str reads an optional string field; null counts as absent.
func str(m map[string]json.RawMessage, key string) (string, bool, *RowError) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, rowErr(key, "field %q is not a string", key)
	}
	if jsonerr.MayHoldSurrogate(raw) { // a lone surrogate escape was read as U+FFFD, not the text written
		if err := jsonerr.Surrogates(fmt.Sprintf("field %q", key), raw); err != nil {
			return "", false, rowErr(key, "%v", err)
		}
	}
	return s, true, nil
}

type turn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

func stratosRow(m map[string]json.RawMessage, conv json.RawMessage, r Row) (Row, error) {
	var turns []turn
	if err := json.Unmarshal(conv, &turns); err != nil {
		return Row{}, rowErr("conversations", `"conversations" is not a list of {"from", "value"} turns`)
	}
	if err := jsonerr.Surrogates(`field "conversations"`, conv); err != nil { // a turn's text read as U+FFFD
		return Row{}, rowErr("conversations", "%v", err)
	}
	r.Stratos = true
	// A system prompt of another text than the one written is refused;
	// one of another type is passed over, as before.
	if err := jsonerr.Surrogates(`field "system"`, m["system"]); err != nil {
		return Row{}, rowErr("system", "%v", err)
	}
	r.System, _, _ = str(m, "system")
	return stratosTurns("conversations", turns, r)
}

// stratosTurns reads a Stratos row's question, explanation and solution
// from its turns (its first user turn and the assistant turn after it),
// its errors said of field, the row's own: "conversations", or
// "messages" for a messages row (messagesRow).
func stratosTurns(field string, turns []turn, r Row) (Row, error) {
	r.Stratos = true
	user, asst := -1, -1
	for i, t := range turns {
		switch strings.ToLower(t.From) {
		case "user", "human":
			if user < 0 {
				user = i
			}
		case "assistant", "gpt":
			if user >= 0 && asst < 0 {
				asst = i
			}
		}
	}
	if user < 0 {
		return Row{}, rowErr(field, "%s: no user turn", field)
	}
	if asst < 0 {
		return Row{}, rowErr(field, "%s: no assistant turn after the user turn", field)
	}
	expl, hasThought, sol, err := ParseStratosAssistant(turns[asst].Value)
	if err != nil {
		return Row{}, rowErr(field, "assistant turn: %v", err)
	}
	r.Question, r.Solution, r.Explanation = turns[user].Value, sol, expl
	if hasThought {
		r.ExplanationFrom = field
	}
	return r, nil
}

// messagesRow reads a row of chat messages, what rlt export --format
// messages writes (NewMessagesWriter) and TRL and verl read: the Stratos
// row's turns as {"role", "content"}, its system prompt a "system" turn.
// rlt's readers took it for a flat row without a question (missing field
// "question"), the rows it had just exported.
func messagesRow(msgs json.RawMessage, r Row) (Row, error) {
	var turns []Message
	if err := json.Unmarshal(msgs, &turns); err != nil {
		return Row{}, rowErr("messages", `"messages" is not a list of {"role", "content"} turns`)
	}
	if err := jsonerr.Surrogates(`field "messages"`, msgs); err != nil { // a turn's text read as U+FFFD
		return Row{}, rowErr("messages", "%v", err)
	}
	conv := make([]turn, 0, len(turns))
	system := ""
	for _, t := range turns {
		if strings.ToLower(t.Role) == "system" && system == "" && len(conv) == 0 {
			system = t.Content
			continue
		}
		conv = append(conv, turn{From: t.Role, Value: t.Content})
	}
	r.System = system
	return stratosTurns("messages", conv, r)
}

// StratosAssistant formats the assistant turn of a Bespoke-Stratos row: the
// student's layout of RLT.md §2 without its end of turn, the explanation's
// lead (ExplanationLead) after the thought tag and then the body, as
// Prompts.StudentContext has it (and as Bespoke-Stratos-17k's rows are).
func StratosAssistant(body, solution string) string {
	return BeginThought + ExplanationLead + body + EndThought + "\n\n" + BeginSolution + solution + EndSolution
}

// ParseStratosAssistant splits an assistant turn made by StratosAssistant
// into its explanation body and solution: the thought less one leading
// ExplanationLead (a thought without it is the body as it is), so the body
// written is the body read. The thought section is optional (thought says
// whether it was there); only white space may lie outside the sections,
// and the sections may not contain other reserved tags.
func ParseStratosAssistant(s string) (body string, thought bool, solution string, err error) {
	var explanation string
	rest := strings.TrimSpace(s)
	if strings.HasPrefix(rest, BeginThought) {
		inside, after, ok := strings.Cut(rest[len(BeginThought):], EndThought)
		if !ok {
			return "", false, "", errors.New("no " + EndThought + " after " + BeginThought)
		}
		explanation, thought, rest = inside, true, strings.TrimSpace(after)
	}
	if !strings.HasPrefix(rest, BeginSolution) {
		if strings.Contains(rest, BeginSolution) {
			return "", false, "", errors.New("text before " + BeginSolution)
		}
		return "", false, "", errors.New("no " + BeginSolution + "…" + EndSolution + " section")
	}
	solution, after, ok := strings.Cut(rest[len(BeginSolution):], EndSolution)
	if !ok {
		return "", false, "", errors.New("no " + EndSolution + " after " + BeginSolution)
	}
	if strings.TrimSpace(after) != "" {
		return "", false, "", errors.New("text after " + EndSolution)
	}
	if tag, ok := ContainsTag(explanation); ok {
		return "", false, "", errors.New("thought contains reserved tag " + tag)
	}
	if tag, ok := ContainsTag(solution); ok {
		return "", false, "", errors.New("solution contains reserved tag " + tag)
	}
	return strings.TrimPrefix(explanation, ExplanationLead), thought, solution, nil
}

// StratosWriter writes Bespoke-Stratos `conversations` rows, one JSON object
// a line: the distillation and export format (RLT.md §5). Each Write is one
// w.Write call; wrap w in a bufio.Writer for many small rows.
type StratosWriter struct {
	w      io.Writer
	system string
	buf    bytes.Buffer
	enc    *json.Encoder
	// messages: rows are chat messages (NewMessagesWriter), not
	// Bespoke-Stratos conversations.
	messages bool
}

// NewMessagesWriter returns a writer of the same rows as chat messages,
// {"messages": [system, user, assistant]} with role and content, the
// system prompt the first turn: the conversational rows TRL's SFTTrainer
// and verl's multi-turn SFT dataset read. TRL turns a Bespoke-Stratos row's
// "conversations" into messages but passes over its top-level "system",
// so the student was fine-tuned under the tokenizer's default system
// prompt, not the one its rows were scored with. An empty system prompt
// writes no system turn ({"messages": [user, assistant]}): both hand the
// turns to the tokenizer's chat template (TRL's apply_chat_template of the
// row's messages; verl's MultiTurnSFTDataset of each turn, keeping the
// first turn's system block), which writes its default system prompt
// only where the first turn is not a system turn (Qwen2.5's "You are
// Qwen, …"); an empty one overrode it with an empty system block.
func NewMessagesWriter(w io.Writer, system string) *StratosWriter {
	sw := NewStratosWriter(w, system)
	sw.messages = true
	return sw
}

// Message is one turn of a messages row.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// messagesJSON is one messages row.
type messagesJSON struct {
	Messages []Message `json:"messages"`
}

// MessagesTurns are the turns of a messages row (NewMessagesWriter): the
// system prompt's turn where it is not empty, the user's and the
// assistant's. The Parquet export's rows are made by it too, so that both
// formats leave an empty system turn out alike.
func MessagesTurns(system, user, assistant string) []Message {
	turns := make([]Message, 0, 3)
	if system != "" {
		turns = append(turns, Message{Role: "system", Content: system})
	}
	return append(turns, Message{Role: "user", Content: user}, Message{Role: "assistant", Content: assistant})
}

// NewStratosWriter returns a writer whose rows carry the given system prompt
// (the student's, since the row is the student's layout).
func NewStratosWriter(w io.Writer, system string) *StratosWriter {
	sw := &StratosWriter{w: w, system: system}
	sw.enc = json.NewEncoder(&sw.buf)
	sw.enc.SetEscapeHTML(false)
	return sw
}

// stratosJSON is one Bespoke-Stratos record; field order as in the dataset.
type stratosJSON struct {
	System        string `json:"system"`
	Conversations []turn `json:"conversations"`
}

// Check says whether a row could be written (and read back as written),
// without writing it.
func (sw *StratosWriter) Check(question, explanation, solution string) error {
	switch {
	case strings.TrimSpace(question) == "":
		return errors.New("stratos row: empty question")
	case strings.TrimSpace(solution) == "":
		return errors.New("stratos row: empty solution")
	}
	// The system prompt may name the thought and solution tags (the real
	// Bespoke-Stratos prompt does: it tells the student the format), but not
	// ChatML's markers, which would end its turn early.
	for _, t := range []string{ImStart, ImEnd, EndOfText} {
		if strings.Contains(sw.system, t) {
			return fmt.Errorf("stratos row: system prompt contains ChatML marker %s", t)
		}
	}
	for _, f := range []struct{ name, val string }{
		{"question", question}, {"explanation", explanation}, {"solution", solution},
	} {
		if tag, ok := ContainsTag(f.val); ok {
			return fmt.Errorf("stratos row: %s contains reserved tag %s", f.name, tag)
		}
	}
	return nil
}

// Write writes one row, explanation being the body (StratosAssistant puts
// the lead before it). It refuses (writing nothing) what Check refuses.
func (sw *StratosWriter) Write(question, explanation, solution string) error {
	if err := sw.Check(question, explanation, solution); err != nil {
		return err
	}
	sw.buf.Reset()
	what, assistant := "stratos row", StratosAssistant(explanation, solution)
	var err error
	if sw.messages {
		what = "messages row"
		err = sw.enc.Encode(messagesJSON{Messages: MessagesTurns(sw.system, question, assistant)})
	} else {
		err = sw.enc.Encode(stratosJSON{
			System:        sw.system,
			Conversations: []turn{{From: "user", Value: question}, {From: "assistant", Value: assistant}},
		})
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := sw.w.Write(sw.buf.Bytes()); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// DocumentError is a file that holds one JSON document where JSON Lines,
// one object a line, is read: a JSON array (on one line or several), or
// an object written over several lines (pretty-printed). Every reader of
// a user's JSON Lines file says it in these words (JSONDocument), before
// any row, rather than a "not JSON" or "not a JSON object" for each line.
type DocumentError struct {
	Path  string // the file, as the command was given it (the fix names it)
	Array bool   // a JSON array; else an object
	Lines int    // non-blank lines it spans
	// ListKey is the one key of an object whose value is a list of
	// objects (the rows, as a {"train": […]} file holds them), or "".
	ListKey string
}

// What says what the file is: "one JSON array on one line, not JSON
// Lines".
func (e *DocumentError) What() string {
	kind, where := "object", "on one line"
	if e.Array {
		kind = "array"
	}
	if e.Lines > 1 {
		where = fmt.Sprintf("over %d lines", e.Lines)
	}
	return fmt.Sprintf("one JSON %s %s, not JSON Lines", kind, where)
}

// Fix says how to write it as JSON Lines with jq.
func (e *DocumentError) Fix() string {
	filter := "."
	switch {
	case e.Array:
		filter = ".[]"
	case e.ListKey != "":
		filter = "." + e.ListKey + "[]"
		if !jqIdent(e.ListKey) {
			filter = fmt.Sprintf(".%q[]", e.ListKey)
		}
	}
	return fmt.Sprintf("write one object a line (e.g. jq -c '%s' %s > rows.jsonl)", filter, shell.Quote(e.Path))
}

func (e *DocumentError) Error() string { return e.What() + ": " + e.Fix() }

// JSONDocument is a *DocumentError when data, the whole of the file at
// path, is one JSON document rather than JSON Lines: a JSON array, or an
// object over more than one line. nil for anything else, JSON Lines of
// one object included (a file of one row). Python's NaN, Infinity and
// -Infinity count as numbers, as json.dump writes them (a Hugging Face
// trainer_state.json holds them). Only a file whose first line is no JSON
// value by itself is validated whole, so JSON Lines costs its first line.
func JSONDocument(data []byte, path string) error {
	data = bytes.TrimSpace(TrimByteOrderMark(data))
	if len(data) == 0 || (data[0] != '[' && data[0] != '{') {
		return nil
	}
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	var doc []byte // data as JSON, Python's numbers made 0
	if _, ok := pythonJSON(first); ok {
		if len(bytes.TrimSpace(rest)) > 0 || data[0] == '{' {
			return nil // JSON Lines (of one row, or of several)
		}
		doc, _ = pythonJSON(data)
	} else if doc, ok = pythonJSON(data); !ok {
		return nil // broken rows: each is said as its line's
	}
	lines := 0
	for rest := data; len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if len(bytes.TrimSpace(line)) > 0 {
			lines++
		}
	}
	e := &DocumentError{Path: path, Array: data[0] == '[', Lines: lines}
	var fields map[string]json.RawMessage
	if !e.Array && json.Unmarshal(doc, &fields) == nil {
		for k, v := range fields {
			if v = bytes.TrimSpace(v); len(v) > 1 && v[0] == '[' && bytes.TrimSpace(v[1:])[0] == '{' {
				if e.ListKey != "" { // more than one: none is the rows
					e.ListKey = ""
					break
				}
				e.ListKey = k
			}
		}
	}
	return e
}

// WholeJSON reports whether b is one whole JSON value, Python's NaN,
// Infinity and -Infinity allowed: a line that is not was cut short (or is
// not JSON at all).
func WholeJSON(b []byte) bool {
	_, ok := pythonJSON(b)
	return ok
}

// pythonJSON is b as JSON, with Python's NaN, Infinity and -Infinity
// outside strings made 0 (jsonerr.ReplacePythonLiterals), and whether that
// is one valid JSON value.
func pythonJSON(b []byte) ([]byte, bool) {
	if json.Valid(b) {
		return b, true
	}
	out := jsonerr.ReplacePythonLiterals(b, "0", "0", "-0")
	return out, json.Valid(out)
}

// jqIdent reports whether k may follow a dot in a jq path unquoted.
func jqIdent(k string) bool {
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return k != ""
}

// LooksCSV reports whether data's first line is a CSV header rather than
// JSON: no brace, and a comma or tab between names. A data file or traces
// file given as CSV is said to be so (rlt train --data, rlt import).
func LooksCSV(data []byte) bool {
	if what, _ := NotText(data); what != "" { // a safetensors header's commas are not CSV's
		return false
	}
	first, _, _ := bytes.Cut(TrimByteOrderMark(data), []byte("\n"))
	first = bytes.TrimSpace(first)
	return len(first) > 0 && first[0] != '{' && first[0] != '[' && bytes.ContainsAny(first, ",\t")
}

// NotText says what data is when it is not text, and what to do ("", ""
// when it is text): UTF-16 (a byte-order mark FF FE or FE FF, as
// PowerShell's > writes), or bytes with a NUL in the first 8 KiB (a
// weights or other binary file, given where JSON Lines go). A Latin-1
// file is text: its rows say their stray bytes themselves.
func NotText(data []byte) (what, fix string) {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		return "this is UTF-16 text, not UTF-8", "save it as UTF-8 (PowerShell: Out-File -Encoding utf8; elsewhere iconv -f UTF-16 -t UTF-8)"
	case bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0:
		return "this is not text (a weights or other binary file?), not JSON Lines", `give the file of rows, one JSON object a line, {"question": …, "solution": …}`
	}
	return "", ""
}
