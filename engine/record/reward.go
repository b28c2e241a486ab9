package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/rlt-workbench/rlt/engine/configkey"
)

// Estimator is how the per-token explanation score d_k is computed.
type Estimator string

const (
	// LogRatio is the sampled one-sample KL estimate d_k = ℓT_k − ℓS_k (default).
	LogRatio Estimator = "logratio"
	// K3 is Schulman's estimator d_k − 1 + exp(−d_k), never negative.
	K3 Estimator = "k3"
	// FullKL is Σ_v pT(v)(log pT(v) − log pS(v)) at each position.
	FullKL Estimator = "full"
)

// RewardConfig holds every coefficient of RLT.md §3. Defaults are the
// official run configuration's (not the reward file's own defaults). Its
// JSON keys are its TOML keys (rescores.jsonl records it).
type RewardConfig struct {
	Temperature   float64   `toml:"temperature" json:"temperature"`       // τ: log-probs are of logits/τ
	SolutionMean  float64   `toml:"solution_mean" json:"solution_mean"`   // c1
	SolutionMin   float64   `toml:"solution_min" json:"solution_min"`     // c2
	KLMean        float64   `toml:"kl_mean" json:"kl_mean"`               // c3 (λ)
	KLMax         float64   `toml:"kl_max" json:"kl_max"`                 // c4 (λ·α)
	FormatPenalty float64   `toml:"format_penalty" json:"format_penalty"` // m when the end tag is missing
	Estimator     Estimator `toml:"estimator" json:"estimator"`
}

// DefaultRewardConfig is the official run's resolved configuration.
func DefaultRewardConfig() RewardConfig {
	return RewardConfig{
		Temperature: 0.7, SolutionMean: 1, SolutionMin: 0.01, KLMean: 3, KLMax: 0.03,
		FormatPenalty: -1, Estimator: LogRatio,
	}
}

// Validate says what is wrong with a configuration: every problem, joined
// (errors.Join), each a *configkey.Error with its key below [reward], as
// GRPOConfig.Validate does, so that the config editor and --config show
// every [reward] mistake at its line at once rather than one per try.
func (c RewardConfig) Validate() error {
	var errs []error
	if !(c.Temperature > 0) || math.IsInf(c.Temperature, 1) { // +Inf would flatten every log-prob to 0
		errs = append(errs, configkey.Errorf("reward.temperature", "temperature %g must be a finite positive number", c.Temperature))
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"solution_mean", c.SolutionMean}, {"solution_min", c.SolutionMin}, {"kl_mean", c.KLMean}, {"kl_max", c.KLMax}, {"format_penalty", c.FormatPenalty}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			errs = append(errs, configkey.Errorf("reward."+v.name, "%s is %g", v.name, v.x))
		}
	}
	switch c.Estimator {
	case LogRatio, K3, FullKL:
	default:
		errs = append(errs, configkey.Errorf("reward.estimator", "estimator %q: want %q, %q or %q", c.Estimator, LogRatio, K3, FullKL))
	}
	return errors.Join(errs...)
}

// Terms are the reductions of one completion's per-token arrays. Their JSON
// is NaN-safe (AppendFloat).
type Terms struct {
	SolutionMean   float64 // over ℓS_i, i ∈ S (−1 when S is empty)
	SolutionMin    float64 // (−1 when S is empty)
	SolutionMinPos int     // index into the solution tokens of the min; −1 if none
	KLMean         float64 // over d_k, k ∈ T (+1 when T is empty)
	KLMax          float64 // (+1 when T is empty)
	KLMaxPos       int     // index into the explanation tokens of the max; −1 if none
	RSS            float64
	RKL            float64
	Penalty        float64
	Reward         float64

	// The no-entropy variant: d_k replaced by −ℓS_k.
	NoEntKLMean float64
	NoEntKLMax  float64
	NoEntRKL    float64
	NoEntReward float64
}

// termField is one field of Terms with its JSON key: the one list the JSON
// encoding and decoding read.
type termField struct {
	key string
	f   *float64
	i   *int
}

func (t *Terms) fields() []termField {
	return []termField{
		{key: "solution_mean", f: &t.SolutionMean}, {key: "solution_min", f: &t.SolutionMin},
		{key: "solution_min_pos", i: &t.SolutionMinPos}, {key: "kl_mean", f: &t.KLMean}, {key: "kl_max", f: &t.KLMax},
		{key: "kl_max_pos", i: &t.KLMaxPos}, {key: "r_ss", f: &t.RSS}, {key: "r_kl", f: &t.RKL},
		{key: "penalty", f: &t.Penalty}, {key: "reward", f: &t.Reward},
		{key: "no_entropy_kl_mean", f: &t.NoEntKLMean}, {key: "no_entropy_kl_max", f: &t.NoEntKLMax},
		{key: "no_entropy_r_kl", f: &t.NoEntRKL}, {key: "no_entropy_reward", f: &t.NoEntReward},
	}
}

// AppendFields appends the terms as JSON object members ("k":v,…), with no
// braces, so that Scored can flatten them into its own object.
func (t Terms) AppendFields(b []byte) []byte {
	for i, f := range t.fields() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, f.key...)
		b = append(b, '"', ':')
		if f.i != nil {
			b = strconv.AppendInt(b, int64(*f.i), 10)
		} else {
			b = AppendFloat(b, *f.f)
		}
	}
	return b
}

// MarshalJSON writes the terms as one object, NaN-safe.
func (t Terms) MarshalJSON() ([]byte, error) {
	return append(t.AppendFields([]byte{'{'}), '}'), nil
}

// UnmarshalJSON reads an object written by MarshalJSON (or any object with
// those keys; missing keys stay zero, unknown keys are ignored).
func (t *Terms) UnmarshalJSON(b []byte) error {
	if t.unmarshalLayout(b) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("terms: %w", err)
	}
	return t.fromMap(m)
}

// unmarshalLayout reads b when it is laid out exactly as MarshalJSON
// writes it, without a map or reflection (opening a run reads one Terms per
// trace, and the map made most of a trace's allocations); false leaves t
// as it was, for UnmarshalJSON to read b as any object.
func (t *Terms) unmarshalLayout(b []byte) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	p := b[1:]
	var out Terms
	for i, f := range out.fields() {
		if i > 0 {
			if len(p) == 0 || p[0] != ',' {
				return false
			}
			p = p[1:]
		}
		if len(p) < len(f.key)+3 || p[0] != '"' || string(p[1:1+len(f.key)]) != f.key || p[1+len(f.key)] != '"' || p[2+len(f.key)] != ':' {
			return false
		}
		p = p[len(f.key)+3:]
		end := bytes.IndexAny(p, ",}")
		if end < 0 {
			return false
		}
		v := p[:end]
		p = p[end:]
		if len(v) == 0 || (v[0] != '"' && !json.Valid(v)) { // strconv takes more than JSON's numbers
			return false
		}
		if f.i != nil {
			n, err := strconv.ParseInt(string(v), 10, 0)
			if err != nil {
				return false
			}
			*f.i = int(n)
			continue
		}
		x, err := ParseFloat(v)
		if err != nil || len(bytes.TrimSpace(v)) != len(v) {
			return false
		}
		*f.f = x
	}
	if string(p) != "}" {
		return false
	}
	*t = out
	return true
}

func (t *Terms) fromMap(m map[string]json.RawMessage) error {
	for _, f := range t.fields() {
		raw, ok := m[f.key]
		if !ok {
			continue
		}
		if f.i != nil {
			if err := json.Unmarshal(raw, f.i); err != nil {
				return fmt.Errorf("terms: %s: %w", f.key, err)
			}
			continue
		}
		v, err := ParseFloat(raw)
		if err != nil {
			return fmt.Errorf("terms: %s: %w", f.key, err)
		}
		*f.f = v
	}
	return nil
}

// AppendFloat appends v as JSON: NaN and ±Inf, which JSON numbers cannot
// hold, as the strings "NaN", "+Inf", "-Inf".
func AppendFloat(b []byte, v float64) []byte {
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

// ParseFloat reads what AppendFloat writes; null reads as NaN.
func ParseFloat(b []byte) (float64, error) {
	b = bytes.TrimSpace(b)
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

// Reduce computes r_SS, r_KL and r from the solution log-probs, the
// per-token explanation scores d and the student's explanation log-probs
// (for the no-entropy variant), summing in float64. ended is false when the
// end tag was missing.
func (c RewardConfig) Reduce(solutionLP, d, studentExplLP []float32, ended bool) Terms {
	var t Terms
	t.SolutionMean, t.SolutionMin, t.SolutionMinPos = extreme(solutionLP, 1, -1)
	t.KLMean, t.KLMax, t.KLMaxPos = extreme(d, 1, 1)
	t.NoEntKLMean, t.NoEntKLMax, _ = extreme(studentExplLP, -1, 1)
	if len(solutionLP) == 0 {
		t.SolutionMean, t.SolutionMin = -1, -1
	}
	if len(d) == 0 {
		t.KLMean, t.KLMax = 1, 1
	}
	if len(studentExplLP) == 0 {
		t.NoEntKLMean, t.NoEntKLMax = 1, 1
	}
	if !ended {
		t.Penalty = c.FormatPenalty
	}
	t.RSS = c.SolutionMean*t.SolutionMean + c.SolutionMin*t.SolutionMin
	t.RKL = c.KLMean*t.KLMean + c.KLMax*t.KLMax
	t.Reward = t.RSS - t.RKL + t.Penalty
	t.NoEntRKL = c.KLMean*t.NoEntKLMean + c.KLMax*t.NoEntKLMax
	t.NoEntReward = t.RSS - t.NoEntRKL + t.Penalty
	return t
}

// extreme returns the mean of sign·x, and its minimum (dir −1) or maximum
// (dir +1) with the first index holding it; NaN and −1 for an empty x.
func extreme(x []float32, sign float64, dir float64) (mean, ext float64, pos int) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), -1
	}
	ext, pos = math.Inf(-int(dir)), -1
	var s float64
	for i, v := range x {
		w := sign * float64(v)
		s += w
		if dir*w > dir*ext {
			ext, pos = w, i
		}
	}
	return s / float64(len(x)), ext, pos
}

// TokenScore turns a teacher and a student log-prob of the same explanation
// token into d_k for the sampled estimators (FullKL is computed from whole
// distributions by the scorer).
func (c RewardConfig) TokenScore(teacherLP, studentLP float32) float32 {
	d := float64(teacherLP) - float64(studentLP)
	if c.Estimator == K3 {
		d = d - 1 + math.Exp(-d)
	}
	return float32(d)
}
