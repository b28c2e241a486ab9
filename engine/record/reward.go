package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
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

// MinTemperature is the smallest temperature log-probs are taken at:
// 1/MaxFloat32 (~2.9e-39), below which 1/τ has no float32 (the kernels'
// invTemp is +Inf, and logits times it NaN or ±Inf). Sampling draws its
// limit, the greedy tokens, there (engine/sample caps 1/τ); a log-prob at
// that limit is 0 or -Inf, a reward of none, so every GRPO step failed on
// its non-finite rewards once the models had loaded. A configuration below
// it is refused at its key instead.
const MinTemperature = 1 / math.MaxFloat32

// MaxSampleTemperature is the highest temperature sampled at (engine/sample,
// and so [grpo]'s, whose teacher samples at it): the draw is all but
// uniform long before it, and +Inf would make every logit / τ zero or NaN.
// Log-probs alone ([reward], rlt score, rlt logprobs) have no such ceiling.
const MaxSampleTemperature = 1e6

// TemperatureProblem says what is wrong with t as the temperature
// log-probs are taken at ("" where nothing): the words after the key or
// flag, for [reward] and [grpo], rlt score's, rlt distill --best-of's and
// rlt logprobs' --temperature, and the policy loss alike. The words name
// no step or reward: a command's log-probs have neither.
func TemperatureProblem(t float64) string {
	switch {
	case !(t > 0) || math.IsInf(t, 1): // +Inf would flatten every log-prob to 0
		return fmt.Sprintf("temperature %g must be a finite positive number", t)
	case t < MinTemperature:
		return fmt.Sprintf("temperature %g is below %.2g (1/MaxFloat32), where log-probs are not finite: give 1e-38 or more (0.01 is near greedy already)", t, MinTemperature)
	}
	return ""
}

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

// turnedAround says what a weight of the other sign than its default's
// teaches (RewardConfig.Validate refuses it).
var turnedAround = map[string]string{
	"solution_mean":  "is negative, which rewards explanations after which the student is less sure of the solution: the objective turned around; give 0 to leave the term out",
	"solution_min":   "is negative, which rewards explanations after which the student's least likely solution token is less likely: the objective turned around; give 0 to leave the term out",
	"kl_mean":        "is negative, which rewards explanations the student finds less natural than the teacher does (r_KL is subtracted): the objective turned around; give 0 to leave the term out",
	"kl_max":         "is negative, which rewards explanations whose least natural token to the student is less natural still (r_KL is subtracted): the objective turned around; give 0 to leave the term out",
	"format_penalty": "is positive, which rewards explanations cut off before their end tag (it is added to their reward); give 0 for no penalty",
}

// Summary is the resolved configuration in one line, every coefficient,
// the format penalty, τ and the estimator, as the workbench's rescore
// detail and rlt distill --best-of's stderr say it (RLT.md §3: always show
// the resolved configuration): "c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 ·
// τ 0.7 · logratio". One owner, so that the two read alike.
func (c RewardConfig) Summary() string {
	v := func(key string) string { s, _ := c.ValueText(key); return s }
	return fmt.Sprintf("c1 %s c2 %s c3 %s c4 %s · penalty %s · τ %s · %s",
		v("solution_mean"), v("solution_min"), v("kl_mean"), v("kl_max"), v("format_penalty"), v("temperature"), v("estimator"))
}

// ValueText is c's value of key, a [reward] table's key (RewardConfig's
// TOML name: "kl_max", "estimator"), as every line that says one says it:
// a number as short as it is exact ("0.03", "1e-07"), the estimator by
// its name ("logratio"). ok is false for a key RewardConfig has not. The
// one formatter of Summary, rlt score's reward line and flags, and the
// resume's note of keys at their defaults, which had two of their own.
func (c RewardConfig) ValueText(key string) (text string, ok bool) {
	rv := reflect.ValueOf(c)
	for i := range rv.NumField() {
		if name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("toml"), ","); name != key {
			continue
		}
		// The field's own value whatever its kind, so that a key added
		// to the table is said as itself, not as another's.
		switch f := rv.Field(i); f.Kind() {
		case reflect.Float64:
			return strconv.FormatFloat(f.Float(), 'g', -1, 64), true
		case reflect.String:
			return f.String(), true
		default:
			return fmt.Sprint(f.Interface()), true
		}
	}
	return "", false
}

// rewardConfigExample is a reward_config as a message shows one.
const rewardConfigExample = `{"temperature": 0.7, "kl_mean": 3}`

// rewardConfigKeys are the keys of a reward_config, RewardConfig's JSON
// names.
var rewardConfigKeys = jsonerr.FieldNames(reflect.TypeFor[RewardConfig]())

// ParseRewardConfig reads a "reward_config" object as rescores.jsonl and
// rlt distill --samples-out record it (RewardConfig's JSON): a key it
// lacks keeps its default, as a [reward] table's does. A key it does not
// know is refused, naming the keys it knows: a misspelt one would
// otherwise be scored at its default, and unknowingly. A key that
// differs from one in case alone ("KL_MAX") is that key, as encoding/json
// and a [reward] table (go-toml, sessions.DecodeStrict) take it. The
// values are not validated (RewardConfig.Validate): a caller may put its
// own over them.
func ParseRewardConfig(raw []byte) (RewardConfig, error) {
	c := DefaultRewardConfig()
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return RewardConfig{}, fmt.Errorf("reward_config: not a JSON object (such as %s)", rewardConfigExample)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return RewardConfig{}, fmt.Errorf("reward_config: %s", jsonerr.Say(err))
	}
	// The keys from the object itself: encoding/json's DisallowUnknownFields
	// says an unknown one only in its error's text.
	for _, m := range jsonerr.Members(raw) {
		if !slices.ContainsFunc(rewardConfigKeys, func(k string) bool { return strings.EqualFold(k, m.Key) }) {
			return RewardConfig{}, fmt.Errorf("reward_config: unknown key %q (known: %s)", m.Key, strings.Join(rewardConfigKeys, ", "))
		}
	}
	return c, nil
}

// Validate says what is wrong with a configuration: every problem, joined
// (errors.Join), each a *configkey.Error with its key below [reward], as
// runconfig.GRPO.Validate does, so that the config editor and --config show
// every [reward] mistake at its line at once rather than one per try.
func (c RewardConfig) Validate() error {
	var errs []error
	if why := TemperatureProblem(c.Temperature); why != "" {
		errs = append(errs, configkey.Errorf("reward.temperature", "%s", why))
	}
	// A coefficient's problem says what to give, with the default to fall
	// back on: "is NaN" alone left the user to guess what is wanted.
	def := DefaultRewardConfig()
	for _, v := range []struct {
		name   string
		x, def float64
	}{{"solution_mean", c.SolutionMean, def.SolutionMean}, {"solution_min", c.SolutionMin, def.SolutionMin}, {"kl_mean", c.KLMean, def.KLMean},
		{"kl_max", c.KLMax, def.KLMax}, {"format_penalty", c.FormatPenalty, def.FormatPenalty}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			errs = append(errs, configkey.Errorf("reward."+v.name, "%s is %g: give a finite number (the default is %g)", v.name, v.x, v.def))
		} else if v.x*v.def < 0 {
			// A weight of the other sign than its default's turns its term
			// around (RLT.md §3: r = r_SS − r_KL + m): the teacher would
			// learn what the term is there to punish. 0 leaves the term out
			// (the reported ablation without r_KL), and is taken.
			errs = append(errs, configkey.Errorf("reward."+v.name, "%s %g %s (the default is %g)", v.name, v.x, turnedAround[v.name], v.def))
		}
	}
	switch c.Estimator {
	case LogRatio, K3, FullKL:
	default:
		errs = append(errs, configkey.Errorf("reward.estimator", "estimator %q: want %q, %q or %q", c.Estimator, LogRatio, K3, FullKL))
	}
	return errors.Join(errs...)
}

// StepTerm is a reward term as a training step's metrics record it
// (engine/rlt): Metric holds the batch's mean of the term as it adds to
// the reward, so that the recorded terms sum to the reward
// (solution_log_prob_reward + kl_reward + match_reward); Negated where the
// term is said as the penalty it subtracts (r = r_SS − r_KL + m:
// kl_reward records −r_KL). rlt run --headless's step line (r_ss, r_kl)
// and the dashboard's r_SS and r_KL charts read the term through it, the
// sign in this one place: each of them flipped kl_reward on its own.
type StepTerm struct {
	Metric  string
	Negated bool
}

// The reward's terms a step records, said as the workbench and rlt run
// --headless say them.
var (
	StepRSS = StepTerm{Metric: "solution_log_prob_reward"} // r_SS
	StepRKL = StepTerm{Metric: "kl_reward", Negated: true} // r_KL, recorded as −r_KL
)

// Recorded is the value the metric records of the term's value v (the
// engine's side), and the term's value of a recorded one: the sign is
// flipped, or not, both ways.
func (t StepTerm) Recorded(v float64) float64 {
	if t.Negated {
		return -v
	}
	return v
}

// Of is the term's value in a step's metrics (0 where not recorded).
func (t StepTerm) Of(metrics map[string]float64) float64 {
	return t.Recorded(metrics[t.Metric])
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

// termCount is how many fields Terms has (Terms.field).
const termCount = 14

// field is Terms' field i (0 ≤ i < termCount) with its JSON key, in the
// order MarshalJSON writes them: the one list the JSON encoding and
// decoding read. f is nil for an int field, n for a float. A switch, not a
// slice made per call nor a table of functions, so that reading a trace's
// terms allocates nothing.
func (t *Terms) field(i int) (key string, f *float64, n *int) {
	switch i {
	case 0:
		return "solution_mean", &t.SolutionMean, nil
	case 1:
		return "solution_min", &t.SolutionMin, nil
	case 2:
		return "solution_min_pos", nil, &t.SolutionMinPos
	case 3:
		return "kl_mean", &t.KLMean, nil
	case 4:
		return "kl_max", &t.KLMax, nil
	case 5:
		return "kl_max_pos", nil, &t.KLMaxPos
	case 6:
		return "r_ss", &t.RSS, nil
	case 7:
		return "r_kl", &t.RKL, nil
	case 8:
		return "penalty", &t.Penalty, nil
	case 9:
		return "reward", &t.Reward, nil
	case 10:
		return "no_entropy_kl_mean", &t.NoEntKLMean, nil
	case 11:
		return "no_entropy_kl_max", &t.NoEntKLMax, nil
	case 12:
		return "no_entropy_r_kl", &t.NoEntRKL, nil
	case 13:
		return "no_entropy_reward", &t.NoEntReward, nil
	}
	panic(fmt.Sprintf("record: Terms has no field %d", i)) // a bug here, not input
}

// termKey is the JSON key of field i.
func termKey(i int) string {
	var t Terms
	key, _, _ := t.field(i)
	return key
}

// AppendFields appends the terms as JSON object members ("k":v,…), with no
// braces, so that Scored can flatten them into its own object.
func (t Terms) AppendFields(b []byte) []byte {
	for i := range termCount {
		if i > 0 {
			b = append(b, ',')
		}
		key, f, n := t.field(i)
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		if n != nil {
			b = strconv.AppendInt(b, int64(*n), 10)
		} else {
			b = AppendFloat(b, *f)
		}
	}
	return b
}

// MarshalJSON writes the terms as one object, NaN-safe.
func (t Terms) MarshalJSON() ([]byte, error) {
	return append(t.AppendFields([]byte{'{'}), '}'), nil
}

// UnmarshalJSON reads an object written by MarshalJSON, or any object with
// those keys: a missing key leaves its field as it was (zero in a new
// Terms), unknown keys are ignored, null reads as NaN (and leaves an int
// field as it was).
func (t *Terms) UnmarshalJSON(b []byte) error {
	if out, ok := t.scan(b); ok {
		*t = out
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("terms: %w", err)
	}
	return t.fromMap(m)
}

// scan reads b as fromMap reads the object encoding/json makes of it,
// starting from *t, without a map or reflection (opening a run reads one
// Terms per trace, and the map was a sixth of opening a run). It takes the
// objects a run's files hold — MarshalJSON's layout, and any order,
// spacing, missing keys and unknown keys with a string, number, true,
// false or null — and reports false for anything else: a string with an
// escape, a nested value, a key given twice, a value fromMap refuses or
// what JSON refuses. UnmarshalJSON then reads b by the map, so that what
// is read, and what is refused in which words, stay the map's.
func (t *Terms) scan(b []byte) (Terms, bool) {
	out := *t
	s := termScan{b: b}
	s.space()
	if !s.byte('{') {
		return out, false
	}
	s.space()
	if s.byte('}') {
		return out, s.end()
	}
	var seen uint32
	next := 0 // the field MarshalJSON writes next, tried first
	for {
		s.space()
		i := next
		if i >= termCount || !s.quoted(termKey(i)) {
			key, ok := s.str()
			if !ok {
				return out, false
			}
			i = termIndex(key)
		}
		s.space()
		if !s.byte(':') {
			return out, false
		}
		s.space()
		val, ok := s.value()
		if !ok {
			return out, false
		}
		if i >= 0 {
			if seen&(1<<i) != 0 {
				return out, false // the map keeps the last: left to it
			}
			seen |= 1 << i
			next = i + 1
			if !setTerm(&out, i, val) {
				return out, false
			}
		}
		s.space()
		if s.byte('}') {
			return out, s.end()
		}
		if !s.byte(',') {
			return out, false
		}
	}
}

// termIndex is the index of key's field (Terms.field), or -1.
func termIndex(key []byte) int {
	for i := range termCount {
		if termKey(i) == string(key) {
			return i
		}
	}
	return -1
}

// setTerm sets field i of t to val, a JSON value's text, as fromMap does;
// false where fromMap would fail.
func setTerm(t *Terms, i int, val []byte) bool {
	_, f, n := t.field(i)
	if f != nil {
		v, err := ParseFloat(val)
		if err != nil {
			return false
		}
		*f = v
		return true
	}
	if string(val) == "null" { // encoding/json leaves an int as it was
		return true
	}
	// encoding/json takes an int only as digits: no fraction, no exponent.
	if bytes.ContainsAny(val, ".eE\"") {
		return false
	}
	v, err := strconv.ParseInt(string(val), 10, 0)
	if err != nil {
		return false
	}
	*n = int(v)
	return true
}

// termScan walks a JSON object's text for Terms.scan. It moves an index,
// not a slice: a slice written through the pointer costs a write barrier
// per step while a collection runs, as it does through opening a run.
type termScan struct {
	b []byte
	i int
}

// space skips JSON's white space.
func (s *termScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// byte consumes c.
func (s *termScan) byte(c byte) bool {
	if s.i >= len(s.b) || s.b[s.i] != c {
		return false
	}
	s.i++
	return true
}

// end reports whether only white space is left.
func (s *termScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// quoted consumes the string "text" (text without escapes), if it is next.
func (s *termScan) quoted(text string) bool {
	p := s.b[s.i:]
	n := len(text)
	if len(p) < n+2 || p[0] != '"' || p[n+1] != '"' || string(p[1:n+1]) != text {
		return false
	}
	s.i += n + 2
	return true
}

// str consumes a string without escapes or control characters and
// returns its text, between the quotes.
func (s *termScan) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	for j := s.i; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			text := s.b[s.i:j]
			s.i = j + 1
			return text, true
		case c < 0x20 || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// value consumes a string (as str), a JSON number, true, false or null,
// and returns its text whole (a string's with its quotes).
func (s *termScan) value() ([]byte, bool) {
	start := s.i
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		if _, ok := s.str(); !ok {
			return nil, false
		}
	case c == '-' || c >= '0' && c <= '9':
		if !s.number() {
			return nil, false
		}
	default:
		for _, lit := range [...]string{"null", "true", "false"} {
			if s.literal(lit) {
				break
			}
		}
		if s.i == start {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

// literal consumes lit, if it is next.
func (s *termScan) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *termScan) number() bool {
	s.byte('-')
	switch {
	case s.byte('0'):
	case s.digits() == 0:
		return false
	}
	if s.byte('.') && s.digits() == 0 {
		return false
	}
	if s.byte('e') || s.byte('E') {
		if !s.byte('+') {
			s.byte('-')
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// digits consumes decimal digits and counts them.
func (s *termScan) digits() int {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

func (t *Terms) fromMap(m map[string]json.RawMessage) error {
	for i := range termCount {
		key, f, n := t.field(i)
		raw, ok := m[key]
		if !ok {
			continue
		}
		if n != nil {
			if err := json.Unmarshal(raw, n); err != nil {
				return fmt.Errorf("terms: %s: %w", key, err)
			}
			continue
		}
		v, err := ParseFloat(raw)
		if err != nil {
			return fmt.Errorf("terms: %s: %w", key, err)
		}
		*f = v
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
