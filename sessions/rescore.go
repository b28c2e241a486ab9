package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// RescoresFile is the side file of re-scorings (see the package
// documentation): traces are never rewritten, a rescore refers to its trace
// by ID.
const RescoresFile = "rescores.jsonl"

// RescoreRecord is one trace scored again by the engine (rlt score --run
// --write): one line of rescores.jsonl. A trace's current rescore is its
// latest record. Slices are shared with the store and must not be modified.
type RescoreRecord struct {
	Time    time.Time
	Trace   string // the ID of the trace scored
	Teacher string // model folders of the scorer
	Student string
	Reward  rlt.RewardConfig // the coefficients used
	Ended   bool
	Terms   rlt.Terms

	ExplanationIDs    []int32
	ExplanationTokens []string
	TeacherLP         []float32
	StudentLP         []float32
	D                 []float32
	SolutionIDs       []int32
	SolutionTokens    []string
	SolutionLP        []float32
}

// NewRescore converts a score of trace id to a record (the float64 arrays
// become float32 copies).
func NewRescore(id string, sc rlt.Scored, teacher, student string, cfg rlt.RewardConfig) RescoreRecord {
	return RescoreRecord{Time: time.Now().UTC(), Trace: id, Teacher: teacher, Student: student, Reward: cfg,
		Ended: sc.Ended, Terms: sc.Terms,
		ExplanationIDs: sc.ExplanationIDs, ExplanationTokens: sc.ExplanationTokens,
		TeacherLP: toF32(sc.TeacherLP), StudentLP: toF32(sc.StudentLP), D: toF32(sc.D),
		SolutionIDs: sc.SolutionIDs, SolutionTokens: sc.SolutionTokens, SolutionLP: toF32(sc.SolutionLP)}
}

// rewardJSON is rlt.RewardConfig on disk (the TOML key names).
type rewardJSON struct {
	Temperature   jfloat `json:"temperature"`
	SolutionMean  jfloat `json:"solution_mean"`
	SolutionMin   jfloat `json:"solution_min"`
	KLMean        jfloat `json:"kl_mean"`
	KLMax         jfloat `json:"kl_max"`
	FormatPenalty jfloat `json:"format_penalty"`
	Estimator     string `json:"estimator"`
}

type rescoreJSON struct {
	Time       time.Time   `json:"time"`
	Trace      string      `json:"trace"`
	Teacher    string      `json:"teacher,omitempty"`
	Student    string      `json:"student,omitempty"`
	Reward     *rewardJSON `json:"reward_config,omitempty"`
	Ended      bool        `json:"ended"`
	Terms      *termsJSON  `json:"terms"`
	ExplIDs    []int32     `json:"expl_ids,omitempty"`
	ExplTokens []string    `json:"expl_tokens,omitempty"`
	TeacherLP  f32s        `json:"teacher_lp,omitempty"`
	StudentLP  f32s        `json:"student_lp,omitempty"`
	D          f32s        `json:"d,omitempty"`
	SolIDs     []int32     `json:"sol_ids,omitempty"`
	SolTokens  []string    `json:"sol_tokens,omitempty"`
	SolLP      f32s        `json:"sol_lp,omitempty"`
}

func encodeRescore(r *RescoreRecord) ([]byte, error) {
	tj := toTermsJSON(r.Terms)
	c := r.Reward
	j := rescoreJSON{Time: r.Time.UTC(), Trace: r.Trace, Teacher: r.Teacher, Student: r.Student,
		Reward: &rewardJSON{jfloat(c.Temperature), jfloat(c.SolutionMean), jfloat(c.SolutionMin), jfloat(c.KLMean),
			jfloat(c.KLMax), jfloat(c.FormatPenalty), string(c.Estimator)},
		Ended: r.Ended, Terms: &tj, ExplIDs: r.ExplanationIDs, ExplTokens: r.ExplanationTokens,
		TeacherLP: r.TeacherLP, StudentLP: r.StudentLP, D: r.D,
		SolIDs: r.SolutionIDs, SolTokens: r.SolutionTokens, SolLP: r.SolutionLP}
	return json.Marshal(&j)
}

func decodeRescore(raw []byte) (*RescoreRecord, error) {
	var j rescoreJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if j.Trace == "" {
		return nil, errors.New(`missing "trace"`)
	}
	if j.Terms == nil {
		return nil, errors.New(`missing "terms"`)
	}
	r := &RescoreRecord{Time: j.Time, Trace: j.Trace, Teacher: j.Teacher, Student: j.Student, Ended: j.Ended,
		Terms: j.Terms.terms(), ExplanationIDs: j.ExplIDs, ExplanationTokens: j.ExplTokens,
		TeacherLP: j.TeacherLP, StudentLP: j.StudentLP, D: j.D,
		SolutionIDs: j.SolIDs, SolutionTokens: j.SolTokens, SolutionLP: j.SolLP}
	if c := j.Reward; c != nil {
		r.Reward = rlt.RewardConfig{Temperature: float64(c.Temperature), SolutionMean: float64(c.SolutionMean),
			SolutionMin: float64(c.SolutionMin), KLMean: float64(c.KLMean), KLMax: float64(c.KLMax),
			FormatPenalty: float64(c.FormatPenalty), Estimator: rlt.Estimator(c.Estimator)}
	}
	return r, nil
}

// AppendRescores appends re-scorings of traces of this run to
// rescores.jsonl, all in one write, fsynced, and records a rescore event.
// Every record must name a trace of the run; the traces themselves are not
// touched (reviews stay keyed by their IDs). A read-only or closed run
// refuses.
func (r *Run) AppendRescores(recs []RescoreRecord) error {
	path := filepath.Join(r.dir, RescoresFile)
	if err := r.writable("append rescores to " + path); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	var buf []byte
	for i := range recs {
		if !r.store.hasTrace(recs[i].Trace) {
			return fmt.Errorf("append rescores to %s: no trace %q in %s", path, recs[i].Trace, r.dir)
		}
		line, err := encodeRescore(&recs[i])
		if err != nil {
			return fmt.Errorf("append rescores to %s: trace %s: %w", path, recs[i].Trace, err)
		}
		buf = append(append(buf, line...), '\n')
	}
	r.rescoreMu.Lock()
	defer r.rescoreMu.Unlock()
	if r.rescoreLog == nil {
		l, err := OpenLogWith(path, LogOptions{SyncEvery: -1})
		if err != nil {
			return fmt.Errorf("append rescores: %w", err)
		}
		if r.opts.wrapFile != nil {
			l.f = r.opts.wrapFile(l.f)
		}
		r.rescoreLog = l
	}
	if err := r.rescoreLog.appendLines(buf, len(recs)); err != nil {
		return fmt.Errorf("append rescores: %w", err)
	}
	if err := r.rescoreLog.Sync(); err != nil {
		return fmt.Errorf("append rescores: %w", err)
	}
	for i := range recs {
		rec := recs[i]
		r.store.addRescore(&rec)
	}
	extra := ""
	if recs[0].Teacher != "" || recs[0].Student != "" {
		extra = fmt.Sprintf("teacher %s, student %s", recs[0].Teacher, recs[0].Student)
	}
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindRescore, Count: len(recs), Extra: extra})
	return nil
}
