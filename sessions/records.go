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
	"time"

	"github.com/rlt-workbench/rlt/engine/rlt"
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
	Explanation    string // the body extracted from Completion (rlt.Extract)
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
	HasScore        bool // false when the trace carried no score
	Ended           bool // the teacher closed the explanation
	Terms           rlt.Terms

	// Per-token arrays (float32 on disk and in memory).
	ExplanationIDs    []int32
	ExplanationTokens []string
	TeacherLP         []float32 // ℓT_k
	StudentLP         []float32 // ℓS_k (without the solution)
	D                 []float32 // d_k
	SolutionIDs       []int32
	SolutionTokens    []string
	SolutionLP        []float32 // ℓS_i after the explanation
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
	Count int       `json:"count,omitempty"` // e.g. traces dropped
	File  string    `json:"file,omitempty"`  // a file a record is about (import: the source file)
	Line  int       `json:"line,omitempty"`  // 1-based line in File
}

// Event kinds in events.jsonl.
const (
	KindCreate     = "create"
	KindOpen       = "open"
	KindResume     = "resume" // Step: the last step kept; later steps of earlier segments are superseded
	KindClose      = "close"
	KindPhase      = "phase"
	KindCheckpoint = "checkpoint"
	KindError      = "error"
	KindDropped    = "dropped" // Count traces were not kept (writer backlog full)
	KindImport     = "import"  // Name: the format read; Dir: the source; Count: traces imported; Extra: a note
	KindSkipped    = "skipped" // an import left out the row at File:Line; Error says why
	KindRescore    = "rescore" // Count rescores appended to rescores.jsonl; Extra: the scorer's models
)

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

func appendJFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func (f jfloat) MarshalJSON() ([]byte, error) { return appendJFloat(nil, float64(f)), nil }

func (f *jfloat) UnmarshalJSON(b []byte) error {
	v, err := parseJFloat(b)
	*f = jfloat(v)
	return err
}

func parseJFloat(b []byte) (float64, error) {
	switch string(b) {
	case "null", `"NaN"`:
		return math.NaN(), nil
	case `"+Inf"`, `"Inf"`, `"Infinity"`:
		return math.Inf(1), nil
	case `"-Inf"`, `"-Infinity"`:
		return math.Inf(-1), nil
	}
	if len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		v, err := strconv.ParseFloat(string(b), 64)
		if err == nil {
			return v, nil
		}
	}
	return 0, fmt.Errorf("not a number: %.40s", b)
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

// termsJSON mirrors rlt.Terms with NaN-safe floats.
type termsJSON struct {
	SolutionMean   jfloat `json:"solution_mean"`
	SolutionMin    jfloat `json:"solution_min"`
	SolutionMinPos int    `json:"solution_min_pos"`
	KLMean         jfloat `json:"kl_mean"`
	KLMax          jfloat `json:"kl_max"`
	KLMaxPos       int    `json:"kl_max_pos"`
	RSS            jfloat `json:"r_ss"`
	RKL            jfloat `json:"r_kl"`
	Penalty        jfloat `json:"penalty"`
	Reward         jfloat `json:"reward"`
	NoEntKLMean    jfloat `json:"no_entropy_kl_mean"`
	NoEntKLMax     jfloat `json:"no_entropy_kl_max"`
	NoEntRKL       jfloat `json:"no_entropy_r_kl"`
	NoEntReward    jfloat `json:"no_entropy_reward"`
}

func toTermsJSON(t rlt.Terms) termsJSON {
	return termsJSON{jfloat(t.SolutionMean), jfloat(t.SolutionMin), t.SolutionMinPos, jfloat(t.KLMean), jfloat(t.KLMax),
		t.KLMaxPos, jfloat(t.RSS), jfloat(t.RKL), jfloat(t.Penalty), jfloat(t.Reward),
		jfloat(t.NoEntKLMean), jfloat(t.NoEntKLMax), jfloat(t.NoEntRKL), jfloat(t.NoEntReward)}
}

func (t termsJSON) terms() rlt.Terms {
	return rlt.Terms{SolutionMean: float64(t.SolutionMean), SolutionMin: float64(t.SolutionMin), SolutionMinPos: t.SolutionMinPos,
		KLMean: float64(t.KLMean), KLMax: float64(t.KLMax), KLMaxPos: t.KLMaxPos, RSS: float64(t.RSS), RKL: float64(t.RKL),
		Penalty: float64(t.Penalty), Reward: float64(t.Reward), NoEntKLMean: float64(t.NoEntKLMean),
		NoEntKLMax: float64(t.NoEntKLMax), NoEntRKL: float64(t.NoEntRKL), NoEntReward: float64(t.NoEntReward)}
}

// traceJSON is the on-disk form of a TraceRecord.
type traceJSON struct {
	ID             string     `json:"id"`
	Seg            int        `json:"seg,omitempty"`
	Step           int        `json:"step"`
	Group          int        `json:"group"`
	Sample         int        `json:"sample"`
	Time           time.Time  `json:"time"`
	Question       string     `json:"question"`
	Solution       string     `json:"solution"`
	Completion     string     `json:"completion"`
	Explanation    string     `json:"explanation"`
	Reconstruction string     `json:"reconstruction,omitempty"`
	Advantage      jfloat     `json:"advantage"`
	Source         string     `json:"source,omitempty"`
	SourceReward   *jfloat    `json:"source_reward,omitempty"`
	Ended          bool       `json:"ended"`
	Terms          *termsJSON `json:"terms,omitempty"`
	ExplIDs        []int32    `json:"expl_ids,omitempty"`
	ExplTokens     []string   `json:"expl_tokens,omitempty"`
	TeacherLP      f32s       `json:"teacher_lp,omitempty"`
	StudentLP      f32s       `json:"student_lp,omitempty"`
	D              f32s       `json:"d,omitempty"`
	SolIDs         []int32    `json:"sol_ids,omitempty"`
	SolTokens      []string   `json:"sol_tokens,omitempty"`
	SolLP          f32s       `json:"sol_lp,omitempty"`
}

func encodeTrace(t *TraceRecord) ([]byte, error) {
	return appendTrace(nil, t), nil
}

// encodeTraceReflect is encodeTrace through encoding/json (tests compare).
func encodeTraceReflect(t *TraceRecord) ([]byte, error) {
	j := traceJSON{ID: t.ID, Seg: t.Seg, Step: t.Step, Group: t.Group, Sample: t.Sample, Time: t.Time,
		Question: t.Question, Solution: t.Solution, Completion: t.Completion, Explanation: t.Explanation,
		Reconstruction: t.Reconstruction, Advantage: jfloat(t.Advantage), Source: t.Source, Ended: t.Ended,
		ExplIDs: t.ExplanationIDs, ExplTokens: t.ExplanationTokens, TeacherLP: t.TeacherLP, StudentLP: t.StudentLP,
		D: t.D, SolIDs: t.SolutionIDs, SolTokens: t.SolutionTokens, SolLP: t.SolutionLP}
	if t.HasScore {
		tj := toTermsJSON(t.Terms)
		j.Terms = &tj
	}
	if t.HasSourceReward {
		r := jfloat(t.SourceReward)
		j.SourceReward = &r
	}
	return json.Marshal(&j)
}

func decodeTrace(raw []byte) (*TraceRecord, error) {
	t, _, err := decodeTraceSalvaging(raw)
	return t, err
}

// traceArrays are the float arrays of a trace record: one that does not
// decode can be dropped and the rest of the trace kept.
var traceArrays = []string{"teacher_lp", "student_lp", "d", "sol_lp"}

// decodeTraceSalvaging decodes a trace record; when the record fails only
// because some float arrays do not decode (a damaged base64 string), it
// keeps the trace without them and says which were dropped and why.
func decodeTraceSalvaging(raw []byte) (*TraceRecord, []string, error) {
	t, err := decodeTraceStrict(raw)
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
	t, ferr := decodeTraceStrict(fixed)
	if ferr != nil {
		return nil, nil, err
	}
	return t, dropped, nil
}

func decodeTraceStrict(raw []byte) (*TraceRecord, error) {
	var j traceJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if j.ID == "" {
		j.ID = traceID(j.Step, j.Group, j.Sample, j.Seg)
	}
	t := &TraceRecord{ID: j.ID, Seg: j.Seg, Step: j.Step, Group: j.Group, Sample: j.Sample, Time: j.Time,
		Question: j.Question, Solution: j.Solution, Completion: j.Completion, Explanation: j.Explanation,
		Reconstruction: j.Reconstruction, Advantage: float64(j.Advantage), Source: j.Source, Ended: j.Ended,
		ExplanationIDs: j.ExplIDs, ExplanationTokens: j.ExplTokens, TeacherLP: j.TeacherLP, StudentLP: j.StudentLP,
		D: j.D, SolutionIDs: j.SolIDs, SolutionTokens: j.SolTokens, SolutionLP: j.SolLP}
	if j.Terms != nil {
		t.HasScore, t.Terms = true, j.Terms.terms()
	}
	if j.SourceReward != nil {
		t.HasSourceReward, t.SourceReward = true, float64(*j.SourceReward)
	}
	if t.Explanation == "" && t.Completion != "" {
		t.Explanation = rlt.Extract(t.Completion).Body
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
		b = appendJFloat(b, m.Values[i])
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

func toF32(x []float64) []float32 {
	if x == nil {
		return nil
	}
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
