package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
	// Explanation tokens T (the prefill's lead "\n\n" first, then the body,
	// less a token a vocabulary with plain-text tags merges into a tag:
	// rlt.Layout), with the teacher's log-prob (solution in context), the student's
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
	ExplanationIDs    []int32    `json:"explanation_ids"`
	ExplanationTokens []string   `json:"explanation_tokens"`
	TeacherLP         jsonFloats `json:"teacher_logprobs"`
	StudentLP         jsonFloats `json:"student_logprobs"`
	D                 jsonFloats `json:"d"`
	SolutionIDs       []int32    `json:"solution_ids"`
	SolutionTokens    []string   `json:"solution_tokens"`
	SolutionLP        jsonFloats `json:"solution_logprobs"`
}

func toJSON(t Tokens) tokensJSON {
	return tokensJSON{t.ExplanationIDs, t.ExplanationTokens, t.TeacherLP, t.StudentLP, t.D,
		t.SolutionIDs, t.SolutionTokens, t.SolutionLP}
}

func (t tokensJSON) tokens() Tokens {
	return Tokens{t.ExplanationIDs, t.ExplanationTokens, t.TeacherLP, t.StudentLP, t.D,
		t.SolutionIDs, t.SolutionTokens, t.SolutionLP}
}

// jsonFloats is a per-token array as JSON: a log-prob of −Inf (a token the
// model gives no probability) or a NaN is written as Terms' are
// (AppendFloat: "-Inf", "NaN"), not refused as encoding/json refuses them.
type jsonFloats []float32

func (f jsonFloats) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+12*len(f))
	b = append(b, '[')
	for i, v := range f {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			b = AppendFloat(b, float64(v))
			continue
		}
		// As encoding/json writes a float32 (the output of earlier
		// versions, byte for byte): 'f' unless tiny or huge, and an
		// exponent without a leading zero.
		format := byte('f')
		if abs := float32(math.Abs(float64(v))); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
			format = 'e'
		}
		b = strconv.AppendFloat(b, float64(v), format, -1, 32)
		if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return append(b, ']'), nil
}

func (f *jsonFloats) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*f = nil
		return nil
	}
	out := make(jsonFloats, len(raw))
	for i, r := range raw {
		v, err := ParseFloat(r)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		out[i] = float32(v)
	}
	*f = out
	return nil
}

// MarshalJSON writes one flat object: the terms, "ended", and the arrays
// under the names of `rlt score`'s output.
func (s Scored) MarshalJSON() ([]byte, error) {
	b := s.Terms.AppendFields([]byte{'{'})
	b = append(b, `,"ended":`...)
	b = strconv.AppendBool(b, s.Ended)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // tokens such as <|im_end|> read as themselves
	if err := enc.Encode(toJSON(s.Tokens)); err != nil {
		return nil, err
	}
	arr := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
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
	s.Tokens = t.tokens()
	return nil
}

// TokenLengths are the lengths of a Tokens' arrays: what a trace's
// per-token data looks like while the arrays themselves stay on disk.
type TokenLengths struct {
	ExplanationIDs, ExplanationTokens, TeacherLP, StudentLP, D int32
	SolutionIDs, SolutionTokens, SolutionLP                    int32
}

// Lengths returns the lengths of t's arrays.
func (t *Tokens) Lengths() TokenLengths {
	return TokenLengths{int32(len(t.ExplanationIDs)), int32(len(t.ExplanationTokens)), int32(len(t.TeacherLP)),
		int32(len(t.StudentLP)), int32(len(t.D)), int32(len(t.SolutionIDs)), int32(len(t.SolutionTokens)),
		int32(len(t.SolutionLP))}
}

// Empty reports whether every array is empty.
func (l TokenLengths) Empty() bool { return l == TokenLengths{} }
