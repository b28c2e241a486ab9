package record

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Scored is one explanation's reward with every per-token array it came
// from: what the engine emits with a trace, what a run folder records for a
// trace and for each re-scoring, what `rlt score` prints and what the
// workbench shows.
//
// The per-token log-probs are float32 from the model to the screen: the
// models compute them in float32, so a wider type would only carry the
// same values in more bytes, and the run folder stores them exactly. The
// reductions (Terms) are float64, summed from those float32 values.
type Scored struct {
	Terms
	// Ended is false when the teacher never closed the explanation (the
	// reward then carries the format penalty).
	Ended bool
	Tokens
}

// Tokens are a scored explanation's per-token arrays.
type Tokens struct {
	// Explanation tokens T (the prefill's lead "\n\n" first, then the body),
	// with the teacher's log-prob (solution in context), the student's
	// (question and earlier explanation only) and d_k.
	ExplanationIDs    []int32
	ExplanationTokens []string
	TeacherLP         []float32 // ℓT_k
	StudentLP         []float32 // ℓS_k (without the solution)
	D                 []float32 // d_k

	// Solution tokens S with the student's log-probs after the explanation.
	SolutionIDs    []int32
	SolutionTokens []string
	SolutionLP     []float32 // ℓS_i
}

// tokensJSON is the JSON form of Tokens in `rlt score`'s output (the run
// folder writes its own compact form of the same arrays).
type tokensJSON struct {
	ExplanationIDs    []int32   `json:"explanation_ids"`
	ExplanationTokens []string  `json:"explanation_tokens"`
	TeacherLP         []float32 `json:"teacher_logprobs"`
	StudentLP         []float32 `json:"student_logprobs"`
	D                 []float32 `json:"d"`
	SolutionIDs       []int32   `json:"solution_ids"`
	SolutionTokens    []string  `json:"solution_tokens"`
	SolutionLP        []float32 `json:"solution_logprobs"`
}

// MarshalJSON writes one flat object: the terms, "ended", and the arrays
// under the names of `rlt score`'s output.
func (s Scored) MarshalJSON() ([]byte, error) {
	b := s.Terms.AppendFields([]byte{'{'})
	b = append(b, `,"ended":`...)
	b = strconv.AppendBool(b, s.Ended)
	arr, err := json.Marshal(tokensJSON(s.Tokens))
	if err != nil {
		return nil, err
	}
	if len(arr) > 2 {
		b = append(b, ',')
		b = append(b, arr[1:len(arr)-1]...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Scored) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scored: %w", err)
	}
	if err := s.Terms.fromMap(m); err != nil {
		return err
	}
	if raw, ok := m["ended"]; ok {
		if err := json.Unmarshal(raw, &s.Ended); err != nil {
			return fmt.Errorf("scored: ended: %w", err)
		}
	}
	var t tokensJSON
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("scored: %w", err)
	}
	s.Tokens = Tokens(t)
	return nil
}
