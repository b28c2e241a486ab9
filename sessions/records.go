package sessions

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
)

// MetricRecord is one optimisation step's numbers: one line of metrics.jsonl.
// Names are sorted and are shared between records with the same key set (do
// not modify them); Values is parallel to Names.
type MetricRecord struct {
	Seg    int // session segment: 0 for the creating session, +1 per Open
	Step   int
	Time   time.Time
	Names  []string
	Values []float64
}

// Get returns the value named name.
func (m MetricRecord) Get(name string) (float64, bool) {
	i, ok := slices.BinarySearch(m.Names, name)
	if !ok {
		return 0, false
	}
	return m.Values[i], true
}

// Map returns the values as a fresh map.
func (m MetricRecord) Map() map[string]float64 {
	out := make(map[string]float64, len(m.Names))
	for i, n := range m.Names {
		out[n] = m.Values[i]
	}
	return out
}

// TraceRecord is one sampled completion with its reward terms and per-token
// arrays: one line of traces/NNNNNN.jsonl. Its slices are shared with the
// store and must not be modified.
//
// A listing record (Store.TracesSince) is the trace as a list shows it: its
// ID, Seg, Step, Group, Sample, Time, Advantage, Source, SourceReward,
// HasScore, File and Line, Scored's Ended and Terms, Lengths and the two
// previews. Its texts (Question, Solution, Completion, Explanation,
// Reconstruction) and Scored's per-token arrays are empty: Store.Trace (or
// a TraceReader, for many) returns the trace whole.
type TraceRecord struct {
	ID             string // unique in the run, e.g. "12-3-5" (step-group-sample), "12-3-5r1" when written by segment 1
	Seg            int
	Step           int
	Group          int
	Sample         int
	Time           time.Time
	Question       string
	Solution       string
	Completion     string // the teacher's raw generated text
	Explanation    string // the body extracted from Completion (record.Extract)
	Reconstruction string // the student's greedy answer, if computed
	Advantage      float64
	// Source is where an imported trace came from ("stored_completions/1.csv:2",
	// "traces.jsonl:7"); empty for traces a run sampled itself.
	Source string
	// SourceReward is the reward the source recorded for an imported trace
	// (the official trainer's r), when HasSourceReward. It is not one of our
	// scores: Terms stay empty until the trace is re-scored (rescores.jsonl).
	SourceReward    float64
	HasSourceReward bool
	// HasScore is false when the trace carried no score (Terms and the
	// per-token arrays are then empty; Ended is still the extraction's).
	HasScore bool
	// File and Line are where the trace's line is (its trace file, as
	// the run names it, and the 1-based line), for a problem with the
	// record to say where it is, as broken records' issues do, and for
	// the store to read its arrays back; "" and 0 for a trace not yet in
	// a file (sampled in this session and not yet written: records handed
	// out before the writer put it there keep them so, Store.TraceLine
	// says where it went).
	File string
	Line int
	record.Scored
	// Lengths are the lengths of Scored's per-token arrays, also where
	// the arrays are left out (Store.TracesSince).
	Lengths record.TokenLengths
	// QuestionPreview and ExplanationPreview are the starts of Question
	// and Explanation as a list shows them (TextPreview: white space made
	// single spaces, at most PreviewWidth characters), also where the
	// texts are left out (Store.TracesSince). Set by the store; empty in
	// a record read or imported otherwise.
	QuestionPreview, ExplanationPreview string
}

// PreviewWidth is how many characters of a trace's question and of its
// explanation a listing record keeps (TextPreview): the Traces list's
// preview column on a screen 319 columns wide (2,560 pixels at 8 a column),
// the widest the workbench plans for; a wider one shows the preview and its
// "…". At 254, a cut preview of ASCII text (253 characters and "…") is 256
// bytes, a size the allocator has, not 258 in a block of 288.
const PreviewWidth = 254

// TextPreview is s as a one-line list shows it: its runs of white space
// (unicode.IsSpace, as strings.Fields) made single spaces, without any at
// either end, and cut after PreviewWidth characters, where "…" takes the
// last one's place. It is a fresh string, s's bytes not shared: a preview
// of an explanation kept does not keep the completion it is part of.
func TextPreview(s string) string {
	if s == "" {
		return ""
	}
	var p preview
	for _, c := range s {
		if !p.add(c) {
			break
		}
	}
	return p.String()
}

// preview makes a TextPreview a character at a time, in a buffer of its
// own that fits the longest (PreviewWidth characters of 4 bytes), so that
// only the preview made is allocated: the texts of a trace read from its
// file are previewed as they are read from its JSON (lineScan.preview),
// never made whole.
type preview struct {
	buf     [PreviewWidth*utf8.UTFMax + len("…")]byte
	len     int  // bytes in buf
	n, last int  // characters in buf, and where the last one starts
	space   bool // white space before the next character
}

// add takes the text's next character; false once the preview is whole
// (c is one more than fits: "…" took the last one's place).
func (p *preview) add(c rune) bool {
	if isSpace(c) {
		p.space = p.n > 0
		return true
	}
	if p.space && p.n < PreviewWidth { // the run of white space before c, as one space
		p.last, p.n = p.len, p.n+1
		p.buf[p.len] = ' '
		p.len++
	}
	p.space = false
	if p.n == PreviewWidth { // c is one more than fits: "…" ends it
		p.len = p.last + copy(p.buf[p.last:], "…")
		return false
	}
	p.last, p.n = p.len, p.n+1
	if c < utf8.RuneSelf {
		p.buf[p.len] = byte(c)
		p.len++
	} else {
		p.len += utf8.EncodeRune(p.buf[p.len:], c)
	}
	return true
}

// String is the preview made so far: a fresh string.
func (p *preview) String() string { return string(p.buf[:p.len]) }

// isSpace is unicode.IsSpace, deciding ASCII without a call (a preview is
// made of every trace a run opens).
func isSpace(c rune) bool {
	if c < utf8.RuneSelf {
		return c == ' ' || '\t' <= c && c <= '\r'
	}
	return unicode.IsSpace(c)
}

// EventRecord is one line of events.jsonl: an engine event (phase,
// checkpoint, error) or a session event (create, open, resume, close,
// dropped, checkpoint-fallback).
type EventRecord struct {
	Seg   int       `json:"seg,omitempty"`
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`
	Step  int       `json:"step"`
	Name  string    `json:"name,omitempty"`  // phase name
	Extra string    `json:"extra,omitempty"` // phase detail
	Dir   string    `json:"dir,omitempty"`   // checkpoint folder, relative to the run
	Error string    `json:"error,omitempty"`
	Fatal bool      `json:"fatal,omitempty"`
	// Severity grades an error event (event.SeverityWarning: the run goes
	// on without what it names); written for every error event, absent
	// only in folders written before it existed (see UnmarshalJSON).
	Severity event.Severity `json:"severity,omitempty"`
	Count    int            `json:"count,omitempty"` // e.g. traces dropped
	File     string         `json:"file,omitempty"`  // a file a record is about (import: the source file)
	Line     int            `json:"line,omitempty"`  // 1-based line in File
	// Column is the 1-based column in Line where an import's skipped row
	// is at fault, where its reader knows it (RowIssue.Column: a CSV
	// field, a JSON value); 0 where it does not.
	Column int `json:"column,omitempty"`
	// Device is where the engine computes (KindDevice).
	Device event.DeviceChoice `json:"device,omitzero"`
	// Fault says what failed, of an error event (event.FaultOf its
	// error): event.FaultDevice where the run's device did, so that the
	// way on is the CPU (ResumeCommand). Written for every error event;
	// absent only in folders written before it existed, where
	// UnmarshalJSON tells it from the error's words (legacyFault).
	Fault event.Fault `json:"fault,omitempty"`
	// PID is the process of the session that wrote a create or open
	// event: the listing's note on a session that never closed the run
	// ("the process that trained it (pid N) is gone …", goneNote) names
	// its process from the events, which outlive run.lock's record (a
	// later review empties it). 0 in folders written
	// before it, and in the open event of a followed trainer's copy.
	PID int `json:"pid,omitempty"`
	// Intent is what the session of an open event opened the run for:
	// IntentResume when it continues the training (its resume event comes
	// once its engine has loaded, which takes minutes for a large model),
	// IntentReview for a review (rlt open, the Runs screen),
	// IntentRescore for rlt score --write; empty in folders written before
	// it. The listing says a run held by a session opened to resume is
	// resuming, not stopped, from its open event on, and who holds a run
	// with no engine and why.
	Intent string `json:"intent,omitempty"`
	// Words is, of a close named CloseLeft, its note (Extra) less its
	// last clause, the checkpoint it continues from (or that it has
	// none): where it left the run and what was lost, after which a
	// reader that says the rest otherwise (a run finished since before
	// the leave: leftView) puts its own words. Absent in folders written
	// before it, whose note leftView cuts where the clause's words
	// (continuesFrom) begin; older versions ignore the key.
	Words string `json:"words,omitempty"`
}

// IntentResume is EventRecord.Intent of an open event whose session
// opened the run to resume its training (Options.Intent).
const IntentResume = "resume"

// IntentReview is EventRecord.Intent of an open event whose session
// opened the run to review it, with no engine (Options.Intent).
const IntentReview = "review"

// IntentRescore is EventRecord.Intent of an open event whose session
// opened the run to write re-scores into it, with no engine (rlt score
// --write).
const IntentRescore = "rescore"

// legacyWarningPrefix is how folders written before EventRecord had a
// Severity marked a warning: its error message started with it.
const legacyWarningPrefix = "warning: "

// legacyFault is the Fault of an error event written before EventRecord
// had one: its words are all such a record has, and a device's failure
// (device.Failed) ended them with event.ResumeOnCPU, as it still does.
// Only these records are read by their words: they would otherwise read
// as no device failure, and their runs be said to resume on the device
// that failed. A record that has the field is taken at it, whatever its
// words quote.
func legacyFault(msg string) event.Fault {
	if strings.Contains(msg, event.ResumeOnCPU) {
		return event.FaultDevice
	}
	return event.FaultOther
}

// UnmarshalJSON reads an events.jsonl line, including those of folders
// written before severity was a field (a non-fatal error whose message
// starts with "warning: " is a warning, its message without the prefix),
// before fault was (legacyFault) and before the device had its own kind
// (a "device" phase whose detail was the choice's text).
func (e *EventRecord) UnmarshalJSON(b []byte) error {
	type plain EventRecord
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	if e.Kind == KindError && e.Severity == "" && !e.Fatal {
		if msg, ok := strings.CutPrefix(e.Error, legacyWarningPrefix); ok {
			e.Severity, e.Error = event.SeverityWarning, msg
		}
	}
	if e.Kind == KindError && e.Fault == "" {
		e.Fault = legacyFault(e.Error)
	}
	if e.Kind == KindPhase && e.Name == legacyDevicePhase {
		c := legacyDeviceChoice(e.Extra)
		e.Kind, e.Name, e.Extra, e.Device = KindDevice, "", "", c
	}
	return nil
}

// legacyDevicePhase is the phase folders written before KindDevice named
// the device in, as event.DeviceChoice's String.
const legacyDevicePhase = "device"

// legacyDeviceChoice reads an event.DeviceChoice back from its String, as
// folders written before KindDevice hold it: "BACKEND (gpu:N, WHY; MATMUL)"
// with each part but the backend optional. The parenthesis that closes the
// text is matched from the end: a backend's name may hold parentheses
// ("vulkan/llvmpipe (LLVM 15.0.6, 256 bits)"), and so may MATMUL.
func legacyDeviceChoice(text string) event.DeviceChoice {
	open := -1
	if strings.HasSuffix(text, ")") {
		depth := 0
		for i := len(text) - 1; i >= 0 && open < 0; i-- {
			switch text[i] {
			case ')':
				depth++
			case '(':
				if depth--; depth == 0 {
					open = i
				}
			}
		}
	}
	if open < 1 || text[open-1] != ' ' {
		return event.DeviceChoice{Backend: text}
	}
	c := event.DeviceChoice{Backend: text[:open-1]}
	rest := text[open+1 : len(text)-1]
	if why, matmul, ok := strings.Cut(rest, "; products "); ok {
		rest, c.Matmul = why, "products "+matmul
		c.F16 = strings.HasPrefix(c.Matmul, "products on tensor cores")
	}
	if gpu, why, ok := strings.Cut(rest, ", "); ok && strings.HasPrefix(gpu, "gpu:") {
		c.GPU, rest = gpu, why
	}
	c.Why = rest
	return c
}

// Event kinds in events.jsonl.
const (
	KindCreate     = "create"
	KindOpen       = "open"
	KindResume     = "resume" // Step: the last step kept; later steps of earlier segments are superseded
	KindClose      = "close"  // with File events.jsonl and a Name: a later session's for the one before it, whose close was lost (LostPartialLine)
	KindPhase      = "phase"
	KindDevice     = "device" // Device: where the engine computes, each time it starts
	KindCheckpoint = "checkpoint"
	KindError      = "error"
	KindDropped    = "dropped" // Count traces were not kept (writer backlog full)
	KindImport     = "import"  // Name: the format read; Dir: the source; Count: traces imported; Extra: a note
	KindSkipped    = "skipped" // an import left out the row at File:Line; Error says why
	KindRescore    = "rescore" // Count rescores appended to rescores.jsonl; Extra: the scorer's models
	// KindLost: the session found File (events.jsonl) lost when it
	// opened the run (Name: "missing", "empty" or "cut short": short of
	// the run's checkpoint folders) and writes it anew; Step is the
	// highest step the run's other records proved done then, Extra what
	// was said. The records it writes are not the run's whole history,
	// and later opens go on saying so (countSteps). Of File "traces"
	// (TracesDir): the trace files of Count steps up to Step, which the
	// run's checkpoints proved done, were gone (Name "missing": the
	// folder; "files missing": the files alone), one event a range of
	// steps (Run.recordLostTraces). Of File events.jsonl and Name
	// "partial line" (LostPartialLine), written by sessions from 5c6690a
	// until they wrote a close event for it (KindClose): the file ended
	// in a partial line (Count its bytes) while run.lock said the run's
	// last session had closed it cleanly, so that session's close was lost
	// with the cut (cutAfterClose).
	KindLost = "lost"
	// KindPlan: Count is how many steps the run now takes: a trainer's
	// folder followed live says so after its import recorded another
	// (ImportSource.PlannedSteps; the Hugging Face Trainer's max_steps
	// comes with its first checkpoint, and changes when a run is resumed
	// with another), and a run of ours resumed with other steps records
	// it beside config.toml (RecordSteps). The newest holds.
	KindPlan = "plan"
)

// CloseLeft is the Name of the close event of a session that left the
// run at once, without waiting for its engine (Run.Leave: a second stop
// signal): Step is the step it left (in progress, or whose checkpoint was
// being written: lost), Dir the newest checkpoint it continues from (""
// for none), Extra what the listing notes. Every reader reads it as a
// close (an older one as a plain close: stopped, nothing noted).
const CloseLeft = "left"

// Label is a review verdict on a trace.
type Label string

// Labels. LabelNone is an unreviewed trace; LabelUndo appears only in the
// review log, never as a current label.
const (
	LabelNone   Label = ""
	LabelAccept Label = "accept"
	LabelReject Label = "reject"
	LabelFlag   Label = "flag"
	LabelUndo   Label = "undo"
)

// Verdict is the label as the workbench and the report say a trace's
// review: accepted, rejected, flagged, or unreviewed (LabelNone).
func (l Label) Verdict() string {
	switch l {
	case LabelNone:
		return "unreviewed"
	case LabelAccept:
		return "accepted"
	case LabelReject:
		return "rejected"
	case LabelFlag:
		return "flagged"
	}
	return string(l)
}

// ReviewRecord is one line of reviews.jsonl.
type ReviewRecord struct {
	Time  time.Time `json:"time"`
	Trace string    `json:"trace"`
	Label Label     `json:"label"`
	Note  string    `json:"note,omitempty"`
}

// LabelState is the current label of a trace: the fold of its review
// records (each undo cancels the latest label still in force).
type LabelState struct {
	Label Label
	Note  string
	Time  time.Time
	// History is how many records the trace has in reviews.jsonl.
	History int
}

// ---- JSON encoding of the run files ----------------------------------------

// jfloat is a float64 that survives JSON: NaN and ±Inf are written as the
// strings "NaN", "+Inf", "-Inf" (JSON numbers cannot hold them); null reads
// as NaN.
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) { return record.AppendFloat(nil, float64(f)), nil }

func (f *jfloat) UnmarshalJSON(b []byte) error {
	v, err := record.ParseFloat(b)
	*f = jfloat(v)
	return err
}

// f32s is a float32 array written as base64 of its little-endian bytes
// (exact, NaN-safe, 5.3 characters a value). Reading also accepts a JSON
// array of numbers (null for NaN), for files made by other tools.
type f32s []float32

func (a f32s) MarshalJSON() ([]byte, error) { return appendF32s(nil, a), nil }

func appendF32s(b []byte, a []float32) []byte {
	if a == nil {
		return append(b, "null"...)
	}
	raw := make([]byte, 4*len(a))
	for i, v := range a {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, '"')
}

func (a *f32s) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = nil
		return nil
	}
	if len(b) >= 2 && b[0] == '"' {
		if out, _, ok := decodeF32s(b[1:len(b)-1], true); ok {
			*a = out
			return nil
		}
		// Said why (or read: base64 skips \r and \n) as a whole.
		raw, err := base64.StdEncoding.AppendDecode(nil, b[1:len(b)-1])
		if err != nil {
			return fmt.Errorf("float32 array: %w", err)
		}
		if len(raw)%4 != 0 {
			return fmt.Errorf("float32 array: %d bytes is not a multiple of 4", len(raw))
		}
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		*a = out
		return nil
	}
	var nums []jfloat
	if err := json.Unmarshal(b, &nums); err != nil {
		return fmt.Errorf("float32 array: want base64 string or array of numbers: %w", err)
	}
	out := make([]float32, len(nums))
	for i, v := range nums {
		out[i] = float32(v)
	}
	*a = out
	return nil
}

// decodeF32s reads text, base64 of float32s' bytes as appendF32s writes
// it, a piece at a time into an array on the stack, and counts the
// floats; with keep it returns them too (the one allocation), else it
// allocates nothing: a summary counts a trace's arrays without making
// them. ok is false for text that does not decode to whole floats, and
// may be for text with \r or \n, which base64 skips (the pieces no longer
// line up): the caller then decodes the text whole.
func decodeF32s(text []byte, keep bool) (out []float32, n int, ok bool) {
	const piece = 1024 // base64 characters: 768 bytes, 192 floats
	var raw [piece / 4 * 3]byte
	if keep {
		out = make([]float32, 0, base64.StdEncoding.DecodedLen(len(text))/4)
	}
	for len(text) > 0 {
		p := text[:min(len(text), piece)]
		text = text[len(p):]
		m, err := base64.StdEncoding.Decode(raw[:], p)
		// A piece before the last is whole quanta without padding.
		if err != nil || m%4 != 0 || len(text) > 0 && m != len(raw) {
			return nil, 0, false
		}
		if keep {
			for i := 0; i < m; i += 4 {
				out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
			}
		}
		n += m / 4
	}
	return out, n, true
}

// tokensJSON is record.Tokens on disk, in traces/ and in rescores.jsonl:
// the float arrays as base64 of their float32 bytes (f32s).
type tokensJSON struct {
	ExplIDs    []int32  `json:"expl_ids,omitempty"`
	ExplTokens []string `json:"expl_tokens,omitempty"`
	TeacherLP  f32s     `json:"teacher_lp,omitempty"`
	StudentLP  f32s     `json:"student_lp,omitempty"`
	D          f32s     `json:"d,omitempty"`
	SolIDs     []int32  `json:"sol_ids,omitempty"`
	SolTokens  []string `json:"sol_tokens,omitempty"`
	SolLP      f32s     `json:"sol_lp,omitempty"`
}

func toTokensJSON(t record.Tokens) tokensJSON {
	return tokensJSON{t.ExplanationIDs, t.ExplanationTokens, t.TeacherLP, t.StudentLP, t.D, t.SolutionIDs, t.SolutionTokens, t.SolutionLP}
}

func (j tokensJSON) tokens() record.Tokens {
	return record.Tokens{ExplanationIDs: j.ExplIDs, ExplanationTokens: j.ExplTokens, TeacherLP: j.TeacherLP, StudentLP: j.StudentLP,
		D: j.D, SolutionIDs: j.SolIDs, SolutionTokens: j.SolTokens, SolutionLP: j.SolLP}
}

// rawTextKey ends the key of a generated text's bytes (completion,
// explanation, reconstruction), written after the text ("completion_bytes"
// after "completion") only when the text is not valid UTF-8 (questions and
// solutions come from rows that must be). A teacher sampling byte-level tokens can end a completion inside
// a character or put bytes together that form none; JSON text holds
// U+FFFD for each such byte, and scoring that text again would score
// other tokens than the run did. The bytes, as base64, keep it exact; the
// text stays for every other reader.
const rawTextKey = "_bytes"

// traceJSON is the on-disk form of a TraceRecord.
type traceJSON struct {
	ID             string        `json:"id"`
	Seg            int           `json:"seg,omitempty"`
	Step           int           `json:"step"`
	Group          int           `json:"group"`
	Sample         int           `json:"sample"`
	Time           time.Time     `json:"time"`
	Question       string        `json:"question"`
	Solution       string        `json:"solution"`
	Completion     string        `json:"completion"`
	CompletionRaw  []byte        `json:"completion_bytes,omitempty"`
	Explanation    string        `json:"explanation"`
	ExplanationRaw []byte        `json:"explanation_bytes,omitempty"`
	Reconstruction string        `json:"reconstruction,omitempty"`
	ReconstrRaw    []byte        `json:"reconstruction_bytes,omitempty"`
	Advantage      jfloat        `json:"advantage"`
	Source         string        `json:"source,omitempty"`
	SourceReward   *jfloat       `json:"source_reward,omitempty"`
	Ended          bool          `json:"ended"`
	Terms          *record.Terms `json:"terms,omitempty"`
	tokensJSON
}

func encodeTrace(t *TraceRecord) ([]byte, error) {
	return appendTrace(nil, t), nil
}

// encodeTraceReflect is encodeTrace through encoding/json (tests compare).
func encodeTraceReflect(t *TraceRecord) ([]byte, error) {
	j := traceJSON{ID: t.ID, Seg: t.Seg, Step: t.Step, Group: t.Group, Sample: t.Sample, Time: t.Time,
		Question: t.Question, Solution: t.Solution, Completion: t.Completion, Explanation: t.Explanation,
		Reconstruction: t.Reconstruction, Advantage: jfloat(t.Advantage), Source: t.Source, Ended: t.Ended,
		tokensJSON: toTokensJSON(t.Tokens)}
	j.CompletionRaw, j.ExplanationRaw, j.ReconstrRaw = rawText(t.Completion), rawText(t.Explanation), rawText(t.Reconstruction)
	if t.HasScore {
		j.Terms = &t.Terms
	}
	if t.HasSourceReward {
		r := jfloat(t.SourceReward)
		j.SourceReward = &r
	}
	return marshalLine(&j)
}

func decodeTrace(raw []byte) (*TraceRecord, error) {
	t, _, err := decodeTraceSalvaging(raw, keepWhole)
	return t, err
}

// traceArrays are the float arrays of a trace record: one that does not
// decode can be dropped and the rest of the trace kept.
var traceArrays = []string{"teacher_lp", "student_lp", "d", "sol_lp"}

// decodeTraceSalvaging decodes a trace record, keeping what keep says
// (traceKeep); when the record fails only because some float arrays do
// not decode (a damaged base64 string), it keeps the trace without them
// and says which were dropped and why.
func decodeTraceSalvaging(raw []byte, keep traceKeep) (*TraceRecord, []string, error) {
	t, err := decodeTraceStrict(raw, keep)
	if err == nil {
		return t, nil, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, nil, err
	}
	var dropped []string
	for _, k := range traceArrays {
		v, ok := obj[k]
		if !ok {
			continue
		}
		var a f32s
		if aerr := a.UnmarshalJSON(v); aerr != nil {
			delete(obj, k)
			dropped = append(dropped, k+": "+aerr.Error())
		}
	}
	if len(dropped) == 0 {
		return nil, nil, err
	}
	fixed, merr := json.Marshal(obj)
	if merr != nil {
		return nil, nil, err
	}
	t, ferr := decodeTraceStrict(fixed, keep)
	if ferr != nil {
		return nil, nil, err
	}
	return t, dropped, nil
}

// decodeTraceStrict decodes a trace record, keeping what keep says
// (traceKeep), with Lengths set: by the fast parser where the line is
// laid out as the writer writes it, else by encoding/json.
func decodeTraceStrict(raw []byte, keep traceKeep) (*TraceRecord, error) {
	if t, ok := parseTraceFast(raw, keep); ok {
		if keep == keepWhole {
			t.Lengths = t.Tokens.Lengths()
		}
		return t, nil
	}
	t, err := decodeTraceReflect(raw)
	if err != nil {
		return nil, err
	}
	t.Lengths = t.Tokens.Lengths()
	switch keep { // as parseTraceFast's
	case keepListing: // the previews, and d of the arrays
		setPreviews(t)
		t.Question, t.Solution, t.Completion, t.Explanation, t.Reconstruction = "", "", "", "", ""
		t.Tokens = record.Tokens{D: t.D}
	case keepTexts:
		t.Tokens = record.Tokens{}
	}
	return t, nil
}

// rawText is a trace text's bytes when they are not valid UTF-8 (written
// beside the text: rawTextKey), else nil.
func rawText(s string) []byte {
	if utf8.ValidString(s) {
		return nil
	}
	return []byte(s)
}

// decodeTraceReflect decodes a trace line with encoding/json.
func decodeTraceReflect(raw []byte) (*TraceRecord, error) {
	var j traceJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if j.ID == "" {
		j.ID = traceID(j.Step, j.Group, j.Sample, j.Seg)
	}
	t := &TraceRecord{ID: j.ID, Seg: j.Seg, Step: j.Step, Group: j.Group, Sample: j.Sample, Time: j.Time,
		Question: j.Question, Solution: j.Solution, Completion: j.Completion, Explanation: j.Explanation,
		Reconstruction: j.Reconstruction, Advantage: float64(j.Advantage), Source: j.Source,
		Scored: record.Scored{Ended: j.Ended, Tokens: j.tokens()}}
	for _, f := range [...]struct {
		raw  []byte
		text *string
	}{{j.CompletionRaw, &t.Completion}, {j.ExplanationRaw, &t.Explanation}, {j.ReconstrRaw, &t.Reconstruction}} {
		if f.raw != nil {
			*f.text = string(f.raw)
		}
	}
	if j.Terms != nil {
		t.HasScore, t.Terms = true, *j.Terms
	}
	if j.SourceReward != nil {
		t.HasSourceReward, t.SourceReward = true, float64(*j.SourceReward)
	}
	if t.Explanation == "" && t.Completion != "" {
		t.Explanation = record.Extract(t.Completion).Body
	}
	return t, nil
}

// traceID names a trace by its place in the run.
func traceID(step, group, sample, seg int) string {
	id := strconv.Itoa(step) + "-" + strconv.Itoa(group) + "-" + strconv.Itoa(sample)
	if seg > 0 {
		id += "r" + strconv.Itoa(seg)
	}
	return id
}

// appendMetric writes a metrics line by hand: keys sorted, NaN-safe.
//
//	{"step":12,"time":"2026-…Z","values":{"kl":0.01,"reward":-0.93}}
func appendMetric(b []byte, m *MetricRecord) []byte {
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, int64(m.Step), 10)
	if m.Seg != 0 {
		b = append(b, `,"seg":`...)
		b = strconv.AppendInt(b, int64(m.Seg), 10)
	}
	b = append(b, `,"time":"`...)
	b = m.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","values":{`...)
	for i, n := range m.Names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n)
		b = append(b, ':')
		b = record.AppendFloat(b, m.Values[i])
	}
	return append(b, "}}"...)
}

type metricJSON struct {
	Step   *int              `json:"step"`
	Seg    int               `json:"seg"`
	Time   time.Time         `json:"time"`
	Values map[string]jfloat `json:"values"`
}

// decodeMetric parses a metrics line; names reuses prev when the key set is
// the same (the common case), so records share one Names slice.
func decodeMetric(raw []byte, prev []string) (MetricRecord, error) {
	if m, ok := parseMetricFast(raw, prev); ok {
		return m, nil
	}
	var j metricJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return MetricRecord{}, err
	}
	if j.Step == nil {
		return MetricRecord{}, errors.New(`missing "step"`)
	}
	m := MetricRecord{Seg: j.Seg, Step: *j.Step, Time: j.Time}
	m.Names = sortedKeys(j.Values, prev)
	m.Values = make([]float64, len(m.Names))
	for i, n := range m.Names {
		m.Values[i] = float64(j.Values[n])
	}
	return m, nil
}

// sortedKeys returns the keys of m sorted, reusing prev if it holds exactly
// those keys.
func sortedKeys[V any](m map[string]V, prev []string) []string {
	if len(prev) == len(m) {
		same := true
		for _, k := range prev {
			if _, ok := m[k]; !ok {
				same = false
				break
			}
		}
		if same {
			return prev
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
