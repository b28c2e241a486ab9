package sessions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
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
	Teacher string // the scorer's models: folders, or inference servers' URLs
	Student string
	// TeacherID names the teacher's weights when Teacher is a checkpoint's
	// (CheckpointTeacherID), empty otherwise: a resume that writes the
	// checkpoint of a step again keeps its folder, so the folder alone
	// does not say which weights scored. Records written before it existed
	// have none.
	TeacherID string
	Reward    record.RewardConfig // the coefficients used
	record.Scored
	// Lengths are the lengths of Scored's per-token arrays, also where
	// the arrays are left out (Store.Rescore).
	Lengths record.TokenLengths
}

// NewRescore records a score of trace id (its slices are shared).
func NewRescore(id string, sc record.Scored, teacher, student string, cfg record.RewardConfig) RescoreRecord {
	return RescoreRecord{Time: time.Now().UTC(), Trace: id, Teacher: teacher, Student: student, Reward: cfg, Scored: sc}
}

type rescoreJSON struct {
	Time      time.Time            `json:"time"`
	Trace     string               `json:"trace"`
	Teacher   string               `json:"teacher,omitempty"`
	Student   string               `json:"student,omitempty"`
	TeacherID string               `json:"teacher_id,omitempty"`
	Reward    *record.RewardConfig `json:"reward_config,omitempty"`
	Ended     bool                 `json:"ended"`
	Terms     *record.Terms        `json:"terms"`
	tokensJSON
}

func encodeRescore(r *RescoreRecord) ([]byte, error) {
	return marshalLine(&rescoreJSON{Time: r.Time.UTC(), Trace: r.Trace, Teacher: r.Teacher, Student: r.Student,
		TeacherID: r.TeacherID, Reward: &r.Reward, Ended: r.Ended, Terms: &r.Terms, tokensJSON: toTokensJSON(r.Tokens)})
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
	r := &RescoreRecord{Time: j.Time, Trace: j.Trace, Teacher: j.Teacher, Student: j.Student, TeacherID: j.TeacherID,
		Scored: record.Scored{Terms: *j.Terms, Ended: j.Ended, Tokens: j.tokens()}}
	if j.Reward != nil {
		r.Reward = *j.Reward
	}
	return r, nil
}

// CheckpointTeacherID identifies the weights of a checkpoint's teacher
// (the files under TeacherDir) by its manifest: their SHA-256s, recorded
// by SaveCheckpoint, so it changes exactly when a checkpoint written again
// at the same step holds other weights, and costs no reading of them (a
// 0.5B-parameter teacher is 2 GB in float32: hashing it again would take
// seconds a step). A checkpoint of an older rlt has no SHA-256s: its
// time, which every save sets, stands in beside the files' sizes.
// It is 16 hex digits of a SHA-256 of those entries.
func CheckpointTeacherID(st CheckpointState) string {
	h := sha256.New()
	for _, n := range manifestNames(st.Files) {
		if !strings.HasPrefix(n, TeacherDir+"/") {
			continue
		}
		sum, ok := st.SHA256[n]
		if !ok {
			sum = "none, written " + st.Time.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(h, "%s %d %s\n", n, st.Files[n], sum)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
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
	line, off := r.rescoreLog.Records()+1, r.rescoreLog.Size()
	if err := r.rescoreLog.appendLines(buf, len(recs)); err != nil {
		return fmt.Errorf("append rescores: %w", err)
	}
	if err := r.rescoreLog.Sync(); err != nil {
		return fmt.Errorf("append rescores: %w", err)
	}
	rest := buf
	for i := range recs {
		n := bytes.IndexByte(rest, '\n')
		r.store.addRescore(&recs[i], lineAt{path, line, off, n})
		rest = rest[n+1:]
		line, off = line+1, off+int64(n+1)
	}
	extra := ""
	if recs[0].Teacher != "" || recs[0].Student != "" {
		extra = fmt.Sprintf("teacher %s, student %s", recs[0].Teacher, recs[0].Student)
	}
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindRescore, Count: len(recs), Extra: extra})
	return nil
}
