package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

const distillStudent = "engine/defaults/models/student"

// rlt distill --best-of N keeps, of each question's N explanations, the
// one with the highest RLT reward (RLT.md §5's ranked variant; ties: the
// first sampled). Every sample is written to --samples-out; each is scored
// again here by rlt score, apart from distill, and the row distill wrote
// for each question must be the explanation of its sample with the
// highest of those rewards. The samples must give at least one question
// whose kept explanation is not its first sample's, so that keeping the
// first (the raw variant) fails.
//
// Which questions give one depends on the floats of the CPU the test runs
// on, and so does a rank that rounding can move: so it tries the seeds of
// bestOfSeeds in turn, and counts on rlt score's rank of a question only
// where its first is clearly ahead (firstOf); elsewhere the kept sample is
// still the first with the highest of the rewards --samples-out records,
// within 1e-6 of rlt score's. None of the seeds giving a question kept
// clearly past its first sample fails the test, saying so.
func TestDistillBestOfKeepsTheHighestReward(t *testing.T) {
	const n, questions = 3, 6
	type sampleRow struct {
		Group, Sample      int
		Question, Solution string
		Completion         string
		Reward             float64
		Kept               bool
	}
	// try distills --seed seed and checks what it kept; it says how many
	// questions clearly keep an explanation other than their first
	// sample's, and errors only where the distill is wrong.
	try := func(seed uint64) (notFirst int, errs []string) {
		dir := t.TempDir()
		out, samplesPath := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
		code, _, said := runCLI(t, "", "distill", "--teacher", distillTeacher, "--best-of", fmt.Sprint(n), "--reward-student", distillStudent,
			"--samples-out", samplesPath, "--out", out, "--questions", fmt.Sprint(questions), "--steps", "1", "--batch", "2",
			"--max-new-tokens", "48", "--seed", fmt.Sprint(seed), "--device", "cpu")
		if code != 0 {
			t.Fatalf("distill --best-of %d --seed %d: exit %d: %s", n, seed, code, said)
		}
		samples, err := os.ReadFile(samplesPath)
		if err != nil {
			t.Fatal(err)
		}
		var got []sampleRow
		for i, l := range strings.Split(strings.TrimSpace(string(samples)), "\n") {
			var s sampleRow
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("--samples-out line %d: %v: %s", i+1, err, l)
			}
			if s.Group != i/n || s.Sample != i%n {
				t.Fatalf("--samples-out line %d is group %d sample %d, want group %d sample %d", i+1, s.Group, s.Sample, i/n, i%n)
			}
			got = append(got, s)
		}
		if len(got) != n*questions {
			t.Fatalf("--samples-out has %d lines, want %d", len(got), n*questions)
		}

		// Each sample scored apart by rlt score, at the sampling temperature.
		code, scored, scoreErrs := runCLI(t, string(samples), "score", "--teacher", distillTeacher, "--student", distillStudent,
			"--temperature", "0.7", "--device", "cpu")
		if code != 0 {
			t.Fatalf("rlt score of the samples: exit %d: %s", code, scoreErrs)
		}
		rewards := make([]float64, 0, len(got))
		for _, l := range strings.Split(strings.TrimSpace(scored), "\n") {
			var s struct{ Reward float64 }
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("rlt score: %v: %.200s", err, l)
			}
			rewards = append(rewards, s.Reward)
		}
		if len(rewards) != len(got) {
			t.Fatalf("rlt score gave %d rewards for %d samples", len(rewards), len(got))
		}

		rows, err := os.ReadFile(filepath.Join(out, distillRows))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(rows)), "\n")
		if len(lines) != questions {
			t.Fatalf("%s has %d rows, want %d", distillRows, len(lines), questions)
		}
		wrong := func(format string, a ...any) {
			errs = append(errs, fmt.Sprintf("--seed %d: ", seed)+fmt.Sprintf(format, a...))
		}
		var kept, all float64
		for q := range questions {
			group := got[q*n : (q+1)*n]
			var bodies []string
			var ownRewards []float64 // --samples-out's, distill's own
			for k, s := range group {
				r := rewards[q*n+k]
				if math.Abs(s.Reward-r) > 1e-6*max(1, math.Abs(r)) {
					wrong("question %d sample %d: --samples-out says reward %g, rlt score %g", q, k, s.Reward, r)
				}
				ownRewards, bodies = append(ownRewards, s.Reward), append(bodies, record.Extract(s.Completion).Body)
				all += s.Reward
			}
			best, _ := firstOf(ownRewards, bodies) // the first of the highest
			for k, s := range group {
				if s.Kept != (k == best) {
					wrong("question %d: sample %d marked kept %v; the first highest-reward sample is %d (rewards %v)", q, k, s.Kept, best, ownRewards)
				}
			}
			kept += ownRewards[best]
			row, err := record.ParseRow([]byte(lines[q]))
			if err != nil {
				t.Fatalf("%s row %d: %v", distillRows, q+1, err)
			}
			if row.Question != group[best].Question || row.Solution != group[best].Solution || row.Explanation != bodies[best] {
				wrong("%s row %d: %q / %q / %q, want the sample with the highest reward: %q / %q / %q", distillRows, q+1,
					row.Question, row.Explanation, row.Solution, group[best].Question, bodies[best], group[best].Solution)
			}
			// rlt score's rank, where no rounding moves it: the same
			// explanation first.
			scoredBest, clear := firstOf(rewards[q*n:(q+1)*n], bodies)
			if !clear {
				continue
			}
			if bodies[scoredBest] != bodies[best] {
				wrong("question %d: kept %q, rlt score ranks %q first (rewards %v)", q, bodies[best], bodies[scoredBest], rewards[q*n:(q+1)*n])
			}
			if bodies[scoredBest] != bodies[0] {
				notFirst++
			}
		}
		// Stderr says the mean reward of the kept explanations and of all.
		say := fmt.Sprintf("ranked %d questions (best of %d): mean reward %.4f of the kept explanations, %.4f of all %d sampled",
			questions, n, kept/questions, all/float64(n*questions), n*questions)
		if !strings.Contains(said, say) {
			wrong("stderr lacks %q:\n%s", say, said)
		}
		t.Logf("--seed %d: %d questions clearly keep another explanation than their first sample's (rewards %v)", seed, notFirst, rewards)
		return notFirst, errs
	}
	for _, seed := range bestOfSeeds {
		notFirst, errs := try(seed)
		for _, e := range errs {
			t.Error(e)
		}
		if notFirst > 0 || len(errs) > 0 {
			return
		}
	}
	t.Fatalf("no --seed of %v gives a question whose highest-reward explanation is clearly not its first sample's: the test cannot tell ranking from the raw variant", bestOfSeeds)
}

// rlt distill --help says of --temperature that the --best-of reward is
// computed at it (RLT.md §3: the log-probs at the sampling temperature),
// as rlt score's --temperature says the log-probs are at its: distill has
// no temperature of its own for the reward, and said only the sampling.
func TestDistillTemperatureHelpSaysTheReward(t *testing.T) {
	code, out, errs := runCLI(t, "", "distill", "--help")
	if code != 0 {
		t.Fatalf("rlt distill --help: exit %d: %s", code, errs)
	}
	_, flags, _ := strings.Cut(out+errs, "\n  -temperature ")
	help, _, _ := strings.Cut(flags, "\n  -")
	if want := "with --best-of above 1, the reward's log-probs are at it too"; !strings.Contains(strings.Join(strings.Fields(help), " "), want) {
		t.Errorf("rlt distill --help's --temperature says %q; want it to say %q", help, want)
	}
}

// rlt distill's two student folders, --student-init (the distilled
// student's start) and --reward-student (the reward's frozen student), are
// checked by one rule as a student to pair with the teacher, or with
// --reference the --tokenizer-from folder (checkStudentFolder), each
// refusal naming its flag and folder and the folder it is paired with,
// before any device opens: no such folder, another tokenizer (with what
// reads the rows' tokens in it, and what to give), a tokenizer past the
// embedding's rows.
// --student-init said a folder it could not read a tokenizer from as
// "--student-init: …", without the folder that --teacher's and
// --reward-student's name.
func TestDistillStudentFoldersCheckedAlike(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	none := filepath.Join(dir, "none")
	other := tinyFolder(t, "f32") // another tokenizer
	short := filepath.Join(dir, "short")
	copyDir(t, distillStudent, short)
	cfgPath := filepath.Join(short, "config.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	fewer := strings.Replace(string(cfg), `"vocab_size": 272`, `"vocab_size": 200`, 1)
	if fewer == string(cfg) {
		t.Fatalf("%s does not say vocab_size 272", cfgPath)
	}
	if err := os.WriteFile(cfgPath, []byte(fewer), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := loadTokenizer(distillTeacher)
	if err != nil {
		t.Fatal(err)
	}
	teacher := []string{"--teacher", distillTeacher}
	for _, c := range []struct {
		flag, why string
		args      []string // the rows' tokenizer's folder, and what the flag needs
		owner     string   // that folder, as a refusal names it
	}{
		{"--student-init", "the distilled rows are tokenized with the teacher's: give a student whose tokenizer.json is the teacher's, or leave --student-init out",
			teacher, "the teacher"},
		{"--reward-student", "the reward reads the teacher's explanations in its tokens: give a student whose tokenizer.json is the teacher's",
			append([]string{"--best-of", "2"}, teacher...), "the teacher"},
		// With --reference the rows' tokenizer is --tokenizer-from's, no
		// teacher's: the refusal said "and the teacher DIR".
		{"--student-init", "the distilled rows are tokenized with --tokenizer-from's: give a student whose tokenizer.json is --tokenizer-from's, or leave --student-init out",
			[]string{"--reference", "--tokenizer-from", distillTeacher}, "--tokenizer-from"},
	} {
		for _, f := range []struct{ dir, last string }{
			{none, "rlt distill: " + c.flag + " " + none + ": model folder " + none + " does not exist"},
			{other, "rlt distill: " + c.flag + " " + other + " and " + c.owner + " " + distillTeacher + ": different tokenizers: "},
			{other, "; RLT needs one shared tokenizer (" + c.why + ")"},
			// Its tokens named by the roles as given: under --reference
			// it said "for the teacher", of a folder given as no teacher.
			{other, " for " + c.owner + " and "},
			{other, " for " + c.flag + "; RLT needs one shared tokenizer"},
			{short, "rlt distill: " + c.flag + " " + short + fmt.Sprintf(": its tokenizer.json has %d tokens, but %s's vocab_size is 200", tok.VocabSize(), cfgPath)},
		} {
			args := append([]string{"--out", out, c.flag, f.dir}, c.args...)
			wantDistillRefused(t, args, 1, f.last, out)
		}
	}
}

// rlt distill --best-of ranks with the reward's coefficients that --c1,
// --c2, --c3, --c4 and --penalty give (rlt score's flags), not the
// defaults: each sample's reward in --samples-out is its terms, as rlt
// score with the default coefficients says them, recombined with the
// given ones (r = c1·mean + c2·min − (c3·mean d + c4·max d) + m, m the
// given penalty where the end tag is missing), the kept sample of each
// question is the first with the highest of those, and stderr's means
// are theirs. The samples must give a question whose kept sample under the
// given coefficients is not the one the defaults rank first, so that
// ranking with the defaults fails.
func TestDistillBestOfRewardFlags(t *testing.T) {
	dir := t.TempDir()
	out, samplesPath := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
	const n, questions = 4, 6
	const c1, c2, c3, c4, penalty = 2, 0.01, 0.5, 0, -3 // c2 as the default's
	code, _, said := runCLI(t, "", "distill", "--teacher", distillTeacher, "--best-of", fmt.Sprint(n), "--reward-student", distillStudent,
		"--c1", fmt.Sprint(c1), "--c3", fmt.Sprint(c3), "--c4", fmt.Sprint(c4), "--penalty", fmt.Sprint(penalty),
		"--samples-out", samplesPath, "--out", out, "--questions", fmt.Sprint(questions), "--steps", "1", "--batch", "2",
		"--max-new-tokens", "48", "--seed", "3", "--device", "cpu")
	if code != 0 {
		t.Fatalf("distill --best-of %d with the reward flags: exit %d: %s", n, code, said)
	}
	samples, err := os.ReadFile(samplesPath)
	if err != nil {
		t.Fatal(err)
	}
	// The default coefficients given as flags: rlt score would otherwise
	// score the samples with the reward_config they record, the flags'.
	code, scored, errs := runCLI(t, string(samples), "score", "--teacher", distillTeacher, "--student", distillStudent,
		"--temperature", "0.7", "--c1", "1", "--c2", "0.01", "--c3", "3", "--c4", "0.03", "--penalty", "-1", "--device", "cpu")
	if code != 0 {
		t.Fatalf("rlt score of the samples: exit %d: %s", code, errs)
	}
	lines, terms := strings.Split(strings.TrimSpace(string(samples)), "\n"), strings.Split(strings.TrimSpace(scored), "\n")
	if len(lines) != n*questions || len(terms) != len(lines) {
		t.Fatalf("%d samples and %d scored lines, want %d", len(lines), len(terms), n*questions)
	}
	changed := 0 // questions whose kept sample is not the one the defaults rank first
	var kept, all float64
	for q := range questions {
		best, bestDefault := 0, 0 // the first of the highest, with the flags' and the defaults' coefficients
		var want, defaults []float64
		var marked []bool // --samples-out's "kept"
		for k := range n {
			var s struct {
				Reward float64
				Kept   bool
			}
			var r struct {
				SolutionMean float64 `json:"solution_mean"`
				SolutionMin  float64 `json:"solution_min"`
				KLMean       float64 `json:"kl_mean"`
				KLMax        float64 `json:"kl_max"`
				Penalty      float64
				Reward       float64
			}
			if err := json.Unmarshal([]byte(lines[q*n+k]), &s); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(terms[q*n+k]), &r); err != nil {
				t.Fatal(err)
			}
			m := 0.0
			if r.Penalty != 0 { // the end tag is missing
				m = penalty
			}
			w := c1*r.SolutionMean + c2*r.SolutionMin - (c3*r.KLMean + c4*r.KLMax) + m
			if math.Abs(s.Reward-w) > 1e-5*max(1, math.Abs(w)) {
				t.Errorf("question %d sample %d: --samples-out says reward %g; its terms with the flags' coefficients make %g (the defaults' reward %g)", q, k, s.Reward, w, r.Reward)
			}
			want, defaults, marked = append(want, w), append(defaults, r.Reward), append(marked, s.Kept)
			if w > want[best] {
				best = k
			}
			if r.Reward > defaults[bestDefault] {
				bestDefault = k
			}
			all += w
		}
		for k, m := range marked {
			if m != (k == best) {
				t.Errorf("question %d: sample %d marked kept %v; the first highest-reward sample under the flags' coefficients is %d (rewards %v)", q, k, m, best, want)
			}
		}
		kept += want[best]
		if best != bestDefault {
			changed++
		}
	}
	if changed == 0 {
		t.Fatalf("every question keeps the sample the default coefficients rank first: the test cannot tell the flags from the defaults; change --seed or the coefficients")
	}
	say := fmt.Sprintf("ranked %d questions (best of %d): mean reward %.4f of the kept explanations, %.4f of all %d sampled",
		questions, n, kept/questions, all/float64(n*questions), n*questions)
	if !strings.Contains(said, say) {
		t.Errorf("stderr lacks %q:\n%s", say, said)
	}
}

// rlt distill --best-of says, once and before it ranks, the reward it
// ranks with, resolved (RLT.md §3): the coefficients, the penalty, the
// sampling temperature and the estimator, in the words the workbench says
// a rescore's (record.RewardConfig.Summary), and every --samples-out line
// records it as "reward_config", as rescores.jsonl does. --estimator
// (rlt score's) reaches the scorer: the samples' rewards are rlt score's
// with the same flags, and not its default estimator's, and rlt score's
// with no reward flag, which scores them with the reward_config they
// record (rlt score scored them with its defaults). Before, distill
// had no --estimator and said no configuration.
func TestDistillBestOfSaysItsReward(t *testing.T) {
	dir := t.TempDir()
	out, samplesPath := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
	const n, questions = 3, 4
	flags := []string{"--temperature", "0.9", "--c3", "0.5", "--estimator", "k3"}
	code, _, said := runCLI(t, "", append([]string{"distill", "--teacher", distillTeacher, "--best-of", fmt.Sprint(n), "--reward-student", distillStudent,
		"--samples-out", samplesPath, "--out", out, "--questions", fmt.Sprint(questions), "--steps", "1", "--batch", "2",
		"--max-new-tokens", "48", "--seed", "3", "--device", "cpu"}, flags...)...)
	if code != 0 {
		t.Fatalf("distill --best-of %d %v: exit %d: %s", n, flags, code, said)
	}
	want := record.DefaultRewardConfig()
	want.Temperature, want.KLMean, want.Estimator = 0.9, 0.5, record.K3
	say := "reward: c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3, against the frozen student " + distillStudent + "\n"
	if got := strings.Count(said, say); got != 1 {
		t.Errorf("stderr says %q %d times, want once:\n%s", say, got, said)
	}
	if i, j := strings.Index(said, say), strings.Index(said, "ranked "); i < 0 || j < i {
		t.Errorf("stderr does not say the reward before the ranking:\n%s", said)
	}
	// The student's folder records the ranking its rows were chosen by
	// (record.RankingFile): the same resolved reward, the samples a
	// question, the teacher and the reward's student, by folders that
	// read alike from anywhere. It recorded nothing of it.
	ranking, b := readRanking(t, out)
	abs := absPath // as the ranking records folders
	// And where the questions came from, how many, --max-new-tokens and
	// --seed: what a distill of the same rows takes, which it left out.
	if wantRanking := (record.Ranking{BestOf: n, Reward: want, Teacher: abs(distillTeacher), RewardStudent: abs(distillStudent),
		Task: "addition", Questions: questions, MaxNewTokens: 48, Seed: 3}); ranking != wantRanking {
		t.Errorf("%s records %+v, want %+v", record.RankingFile, ranking, wantRanking)
	}
	for _, key := range []string{`"best_of"`, `"reward_config"`, `"estimator": "k3"`, `"teacher"`, `"reward_student"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("%s lacks %s:\n%s", record.RankingFile, key, b)
		}
	}
	samples, err := os.ReadFile(samplesPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(samples)), "\n")
	if len(lines) != n*questions {
		t.Fatalf("--samples-out has %d lines, want %d", len(lines), n*questions)
	}
	rewards := make([]float64, len(lines))
	for i, l := range lines {
		var s struct {
			Reward       float64
			RewardConfig *record.RewardConfig `json:"reward_config"`
		}
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("--samples-out line %d: %v: %s", i+1, err, l)
		}
		if s.RewardConfig == nil || *s.RewardConfig != want {
			t.Fatalf("--samples-out line %d records reward_config %+v, want %+v", i+1, s.RewardConfig, want)
		}
		rewards[i] = s.Reward
	}
	// rlt score's rewards of the same samples, with the same flags and
	// with its default estimator.
	// With no reward flag (est ""), the reward_config the samples record.
	score := func(est string) []float64 {
		args := []string{"score", "--teacher", distillTeacher, "--student", distillStudent, "--device", "cpu"}
		if est != "" {
			args = append(args, "--temperature", "0.9", "--c3", "0.5", "--estimator", est)
		}
		code, scored, errs := runCLI(t, string(samples), args...)
		if code != 0 {
			t.Fatalf("rlt score --estimator %s of the samples: exit %d: %s", est, code, errs)
		}
		var rs []float64
		for _, l := range strings.Split(strings.TrimSpace(scored), "\n") {
			var s struct{ Reward float64 }
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("rlt score: %v: %.200s", err, l)
			}
			rs = append(rs, s.Reward)
		}
		if len(rs) != len(lines) {
			t.Fatalf("rlt score --estimator %s gave %d rewards for %d samples", est, len(rs), len(lines))
		}
		return rs
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-5*max(1, math.Abs(b)) }
	k3, logratio, recorded := score("k3"), score("logratio"), score("")
	differ := 0
	for i, r := range rewards {
		if !near(r, k3[i]) {
			t.Errorf("sample %d: --samples-out says reward %g, rlt score --estimator k3 %g (logratio: %g)", i, r, k3[i], logratio[i])
		}
		if !near(r, logratio[i]) {
			differ++
		}
		// A user who scores the samples again gets the reward that ranked
		// them, not rlt score's defaults'.
		if !near(r, recorded[i]) {
			t.Errorf("sample %d: --samples-out says reward %g, rlt score with no reward flag %g", i, r, recorded[i])
		}
	}
	if differ == 0 {
		t.Errorf("every sample's k3 reward is its logratio one: the test cannot tell the estimators apart (rewards %v)", rewards)
	}
}

// --best-of 1, the default, is the raw variant: the same rows, byte for
// byte, as a distill without the flag, and nothing said of a ranking.
func TestDistillBestOfOneIsTheRawRows(t *testing.T) {
	var rows [2][]byte
	for i, extra := range [][]string{nil, {"--best-of", "1"}} {
		out := filepath.Join(t.TempDir(), "out")
		args := append([]string{"distill", "--teacher", distillTeacher, "--out", out, "--questions", "4", "--steps", "1", "--batch", "2",
			"--max-new-tokens", "32", "--seed", "3", "--device", "cpu"}, extra...)
		code, _, errs := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("distill %v: exit %d: %s", extra, code, errs)
		}
		if strings.Contains(errs, "ranked") {
			t.Errorf("distill %v said a ranking:\n%s", extra, errs)
		}
		var err error
		if rows[i], err = os.ReadFile(filepath.Join(out, distillRows)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "student", record.RankingFile)); !os.IsNotExist(err) {
			t.Errorf("distill %v: the student of raw explanations records a ranking (%v)", extra, err)
		}
	}
	if string(rows[0]) != string(rows[1]) {
		t.Errorf("--best-of 1 wrote other rows than the raw variant:\n%s\nwant\n%s", rows[1], rows[0])
	}
}

// A --best-of that cannot rank, and the ranking's flags without one, are
// refused before any work, saying why and what to give, and write nothing.
func TestDistillBestOfRefusals(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	teacher := []string{"--teacher", distillTeacher, "--out", out}
	reward := []string{"--reward-student", distillStudent}
	for _, c := range []struct {
		args []string
		code int
		last string // in stderr's last line
	}{
		{append([]string{"--best-of", "0"}, teacher...), 2, "rlt distill: --best-of 0: want at least 1"},
		{append([]string{"--best-of", "-2"}, teacher...), 2, "rlt distill: --best-of -2: want at least 1"},
		{append(append([]string{"--best-of", "3", "--temperature", "0"}, teacher...), reward...), 2,
			"rlt distill: --best-of 3 with --temperature 0: greedy sampling writes the same explanation 3 times, with nothing to rank"},
		{append([]string{"--best-of", "3"}, teacher...), 2,
			"rlt distill: --best-of 3 needs --reward-student DIR: the frozen student the reward"},
		{append([]string{"--best-of", "3", "--reference", "--tokenizer-from", distillTeacher, "--out", out}, reward...), 2,
			"rlt distill: --best-of 3 with --reference: the task's own explanations are one a question"},
		{append(append([]string{}, teacher...), reward...), 2,
			"rlt distill: --reward-student without --best-of above 1"},
		{append([]string{"--best-of", "1", "--samples-out", filepath.Join(dir, "s.jsonl")}, teacher...), 2,
			"rlt distill: --samples-out without --best-of above 1"},
		{append(append([]string{"--best-of", "2", "--samples-out", dir}, teacher...), reward...), 2,
			"rlt distill: --samples-out " + dir + ": a folder; give a file to write the samples to"},
		{append(append([]string{"--best-of", "2"}, teacher...), "--reward-student", filepath.Join(dir, "none")), 1,
			"rlt distill: --reward-student " + filepath.Join(dir, "none")},
		// The reward's coefficients (rlt score's flags) belong to the
		// ranking, and are refused as rlt score and [reward] refuse them.
		{append([]string{"--c3", "5"}, teacher...), 2,
			"rlt distill: --c3 without --best-of above 1: it belongs to the ranked variant (the teacher writes N explanations of each question, the highest-reward one is kept); give --best-of N, or leave --c3 out"},
		{append([]string{"--best-of", "1", "--penalty", "-2"}, teacher...), 2,
			"rlt distill: --penalty without --best-of above 1"},
		// With --reference, which --best-of N is refused with, they are
		// said to be left out: the refusal said to give --best-of N.
		{[]string{"--reference", "--tokenizer-from", distillTeacher, "--out", out, "--c1", "2"}, 2,
			"rlt distill: --c1 with --reference: it belongs to the ranked variant (--best-of N), which ranks a teacher's explanations, not the task's own; leave --c1 out"},
		{append([]string{"--reference", "--tokenizer-from", distillTeacher, "--out", out}, reward...), 2,
			"rlt distill: --reward-student with --reference: it belongs to the ranked variant"},
		{append(append([]string{"--best-of", "2", "--c4", "NaN"}, teacher...), reward...), 2, "rlt distill: --c4 is NaN: give a finite number (the default is 0.03)"},
		{append(append([]string{"--best-of", "2", "--c2", "-Inf"}, teacher...), reward...), 2, "rlt distill: --c2 is -Inf: give a finite number (the default is 0.01)"},
		// The estimator (rlt score's --estimator) is one of them.
		{append([]string{"--estimator", "k3"}, teacher...), 2,
			"rlt distill: --estimator without --best-of above 1: it belongs to the ranked variant"},
		{[]string{"--reference", "--tokenizer-from", distillTeacher, "--out", out, "--estimator", "full"}, 2,
			"rlt distill: --estimator with --reference: it belongs to the ranked variant (--best-of N)"},
		{append(append([]string{"--best-of", "2", "--estimator", "bogus"}, teacher...), reward...), 2,
			`rlt distill: --estimator "bogus": want "logratio", "k3" or "full"`},
	} {
		wantDistillRefused(t, c.args, c.code, c.last, out)
	}
}

// Past 64 samples a question's are drawn and scored 64 at a time: every
// one of them is still ranked, and the kept one is the first with the
// highest reward of all (as --samples-out records them).
func TestDistillBestOfPastOneBatch(t *testing.T) {
	dir := t.TempDir()
	out, samplesPath := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
	const n, questions = bestOfBatch + 2, 2
	code, _, errs := runCLI(t, "", "distill", "--teacher", distillTeacher, "--best-of", fmt.Sprint(n), "--reward-student", distillStudent,
		"--samples-out", samplesPath, "--out", out, "--questions", fmt.Sprint(questions), "--steps", "1", "--batch", "2",
		"--max-new-tokens", "16", "--device", "cpu")
	if code != 0 {
		t.Fatalf("distill --best-of %d: exit %d: %s", n, code, errs)
	}
	samples, err := os.ReadFile(samplesPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := os.ReadFile(filepath.Join(out, distillRows))
	if err != nil {
		t.Fatal(err)
	}
	lines, rowLines := strings.Split(strings.TrimSpace(string(samples)), "\n"), strings.Split(strings.TrimSpace(string(rows)), "\n")
	if len(lines) != n*questions || len(rowLines) != questions {
		t.Fatalf("%d samples and %d rows, want %d and %d", len(lines), len(rowLines), n*questions, questions)
	}
	for q := range questions {
		best, bestReward, kept := -1, math.Inf(-1), -1
		var completions []string
		for k := range n {
			var s struct {
				Group, Sample int
				Completion    string
				Reward        float64
				Kept          bool
			}
			if err := json.Unmarshal([]byte(lines[q*n+k]), &s); err != nil {
				t.Fatal(err)
			}
			if s.Group != q || s.Sample != k {
				t.Fatalf("line %d is group %d sample %d, want %d %d", q*n+k+1, s.Group, s.Sample, q, k)
			}
			if s.Reward > bestReward {
				best, bestReward = k, s.Reward
			}
			if s.Kept {
				kept = k
			}
			completions = append(completions, s.Completion)
		}
		if kept != best {
			t.Errorf("question %d: sample %d kept, want %d (the first with the highest reward, %g)", q, kept, best, bestReward)
		}
		row, err := record.ParseRow([]byte(rowLines[q]))
		if err != nil {
			t.Fatal(err)
		}
		if want := record.Extract(completions[best]).Body; row.Explanation != want {
			t.Errorf("row %d: explanation %q, want the kept sample's %q", q+1, row.Explanation, want)
		}
	}
}

// rlt distill --best-of keeps, of each question's explanations, the
// highest-reward one the distilled student can learn from: one without a
// ChatML or RLT tag whose row fits the student's positions, the rule the
// raw variant's rows are left out by (runpkg.Learnable). A student of few
// positions (127, where the rows of explanations of the whole
// --max-new-tokens take 129) leaves out the longer samples; a question
// whose highest-reward sample is one of them keeps its best of the
// others, where it kept that one and then lost its row. Each question
// with any sample the student can learn from has its row; the test needs
// one whose highest-reward sample is not learnable, so that ranking all of
// them fails. A question with none has no row, and the ranking counts it
// as Learnable counted its row of the best of all, by that sample's
// reason (a tag, else its length: RankStats, which stderr's "left out"
// lines say); the test needs one. rlt distill refuses such a student
// before the teacher explains (TestDistillRefusesQuestionsPastTheStudent),
// so the ranking (distillBestOf) is given it here: the rule stays for a
// tag, and for an explanation whose text takes more tokens in the row than
// the teacher wrote. Which questions and seeds give the samples the test
// needs depends on the floats of the CPU it runs on: it tries the seeds
// of bestOfSeeds in turn, checking each, and fails where none gives them.
func TestDistillBestOfKeepsALearnableExplanation(t *testing.T) {
	const n, questions, positions = 4, 6, 127
	tok, err := loadTokenizer(filepath.Join(distillTeacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := record.PromptsFor(distillTeacher, "", record.Prompts{})
	if err != nil {
		t.Fatal(err)
	}
	addition, _ := task.Lookup("addition")
	be := compute.NewCPU()
	teacher, err := model.LoadAs(context.Background(), be, distillTeacher, model.Float32)
	if err != nil {
		t.Fatal(err)
	}
	// try ranks the questions --seed seed draws as rlt distill --best-of
	// does with it and checks what it kept; it says whether the samples
	// tell what the test is for (a question whose highest-reward sample is
	// not learnable, and one with no learnable sample), errors only where
	// the ranking is wrong.
	try := func(seed uint64) (tells bool) {
		dir := t.TempDir()
		out, samplesPath := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
		exs, err := task.NewSampler(addition, task.Train, seed).Unique(questions)
		if err != nil {
			t.Fatal(err)
		}
		// rlt distill's --best-of, --max-new-tokens 48 --seed seed (its
		// defaults for the rest), for a distilled student of 127 positions.
		b := runpkg.BestOf{N: n, Temperature: 0.7, MaxNewTokens: 48, Seed: seed, Reward: record.DefaultRewardConfig(),
			MicroBatchTokens: runconfig.DefaultMicroBatchTokens, StudentPositions: positions}
		var said strings.Builder
		rows, st, err := distillBestOf(context.Background(), be, teacher, tok, p, exs, b, distillStudent, samplesPath, out, &said)
		if err != nil {
			t.Fatalf("distillBestOf: %v\n%s", err, said.String())
		}
		samples, err := os.ReadFile(samplesPath)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(samples)), "\n")
		if len(lines) != n*questions {
			t.Fatalf("--samples-out has %d lines, want %d", len(lines), n*questions)
		}
		var want []record.Row        // each question's kept row, where it has one
		var kept, wantKept []int     // the samples --samples-out marks kept, and those it should
		skipped := 0                 // questions whose highest-reward sample is not learnable
		leftTagged, leftLong := 0, 0 // questions with no learnable sample, by their best of all's reason
		for q := range questions {
			best, bestAll := -1, 0
			var rewards []float64
			var bodies []string
			var taggedOf []bool
			for k := range n {
				var s struct {
					Question, Solution, Completion string
					Reward                         float64
					Kept                           bool
				}
				if err := json.Unmarshal([]byte(lines[q*n+k]), &s); err != nil {
					t.Fatal(err)
				}
				body := record.Extract(s.Completion).Body
				_, tagged := record.ContainsTag(body)
				length := len(warmstart.StudentSequence(tok, p, s.Question, body, s.Solution).Tokens)
				long := length > positions
				t.Logf("--seed %d question %d sample %d: reward %g, a row of %d tokens, tagged %v, kept %v", seed, q, k, s.Reward, length, tagged, s.Kept)
				rewards, bodies, taggedOf = append(rewards, s.Reward), append(bodies, body), append(taggedOf, tagged)
				if s.Reward > rewards[bestAll] {
					bestAll = k
				}
				if !tagged && !long && (best < 0 || s.Reward > rewards[best]) {
					best = k
				}
				if s.Kept {
					kept = append(kept, q*n+k)
				}
				if k == 0 {
					want = append(want, record.Row{Question: s.Question, Solution: s.Solution})
				}
			}
			if best < 0 {
				want = want[:len(want)-1] // no row: nothing learnable to keep
				if taggedOf[bestAll] {
					leftTagged++
				} else {
					leftLong++
				}
				continue
			}
			want[len(want)-1].Explanation = bodies[best]
			wantKept = append(wantKept, q*n+best)
			if best != bestAll {
				skipped++
			}
		}
		if fmt.Sprint(kept) != fmt.Sprint(wantKept) {
			t.Errorf("--samples-out marks lines %v kept (0-based), want %v: each question's highest-reward learnable sample, none where none is", kept, wantKept)
		}
		if st.Tagged != leftTagged || st.Long != leftLong {
			t.Errorf("the ranking left out %d questions' rows for a tag and %d for their length; want %d and %d: questions with no learnable sample, by their best sample's reason",
				st.Tagged, st.Long, leftTagged, leftLong)
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d: one for each question with a learnable sample\n%s", len(rows), len(want), said.String())
		}
		for i, row := range rows {
			if row.Question != want[i].Question || row.Explanation != want[i].Explanation || row.Solution != want[i].Solution {
				t.Errorf("row %d: %q / %q / %q, want the highest-reward learnable sample: %q / %q / %q", i+1,
					row.Question, row.Explanation, row.Solution, want[i].Question, want[i].Explanation, want[i].Solution)
			}
		}
		return skipped > 0 && leftTagged+leftLong > 0
	}
	for _, seed := range bestOfSeeds {
		if try(seed) {
			return
		}
	}
	t.Fatalf("no --seed of %v gives a question whose highest-reward sample a student of %d positions cannot learn from and one with no sample it can: the test cannot tell; change the positions", bestOfSeeds, positions)
}

// A signal while --reward-student loads (its context cancelled as the
// load begins) is said as every command's stop while its models load
// (loadStopped): before the first question, while the reward's student
// loaded, where the load stopped, that nothing was written, and the way
// on.
func TestDistillBestOfStoppedWhileTheRewardStudentLoads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr strings.Builder
	_, _, err := distillBestOf(ctx, compute.NewCPU(), nil, nil, record.Prompts{}, nil, runpkg.BestOf{N: 2, Temperature: 0.7},
		distillStudent, "", filepath.Join(t.TempDir(), "out"), &stderr)
	want := "stopped by a signal before its first question, while the reward's student (--reward-student " + distillStudent + ") loaded (" +
		filepath.Join(distillStudent, "model.safetensors") + ": tensor "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "): nothing was written; to start again, run the same command") {
		t.Errorf("got %v;\nwant %q…): nothing was written; to start again, run the same command", err, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q: the ranking began", stderr.String())
	}
}

// rlt distill --best-of --estimator full ranks by the full-vocabulary KL
// (RLT.md §3), run for real at the embedded models' size, where only its
// refusals were tested: the same seed samples the same explanations as
// the default logratio estimator (the estimator ranks, it does not
// sample), each sample's reward is rlt score --estimator full's of it,
// and each question keeps the first sample with the highest of its own
// estimator's rewards. So the two distills keep the same row where the
// two estimators rank a question's samples first alike, and another where
// they do not.
//
// The test needs a question of each, or it cannot tell the full estimator
// from logratio; which questions give them depends on the floats of the
// CPU it runs on. So it looks for them: for each seed of a bounded list,
// logratio's distill and rlt score --estimator full of its samples say
// how each estimator ranks each question's samples, and a question counts
// only where each estimator's first is ahead of every other explanation
// by more than rounding moves a reward (rankMargin), so that the full
// distill's own floats cannot rank it otherwise. The first seed that gives
// both is distilled with --estimator full; none in the list fails the
// test, saying so, rather than passing without telling them apart.
func TestDistillBestOfFullEstimator(t *testing.T) {
	const n, questions = 3, 6
	type sample struct {
		Group, Sample int
		Completion    string
		Reward        float64
		Kept          bool
		RewardConfig  record.RewardConfig `json:"reward_config"`
	}
	distill := func(est string, seed uint64) (samples []sample, raw string, rows []string) {
		dir := t.TempDir()
		out, samplesPath := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
		code, _, errs := runCLI(t, "", "distill", "--teacher", distillTeacher, "--best-of", fmt.Sprint(n), "--reward-student", distillStudent,
			"--estimator", est, "--samples-out", samplesPath, "--out", out, "--questions", fmt.Sprint(questions), "--steps", "1", "--batch", "2",
			"--max-new-tokens", "48", "--seed", fmt.Sprint(seed), "--device", "cpu")
		if code != 0 {
			t.Fatalf("distill --best-of %d --estimator %s --seed %d: exit %d: %s", n, est, seed, code, errs)
		}
		b, err := os.ReadFile(samplesPath)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
		for i, l := range strings.Split(strings.TrimSpace(raw), "\n") {
			var s sample
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("--estimator %s: --samples-out line %d: %v: %s", est, i+1, err, l)
			}
			if s.Group != i/n || s.Sample != i%n || s.RewardConfig.Estimator != record.Estimator(est) {
				t.Fatalf("--estimator %s: --samples-out line %d is group %d sample %d of estimator %q", est, i+1, s.Group, s.Sample, s.RewardConfig.Estimator)
			}
			samples = append(samples, s)
		}
		if len(samples) != n*questions {
			t.Fatalf("--estimator %s: --samples-out has %d lines, want %d", est, len(samples), n*questions)
		}
		b, err = os.ReadFile(filepath.Join(out, distillRows))
		if err != nil {
			t.Fatal(err)
		}
		rows = strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(rows) != questions {
			t.Fatalf("--estimator %s: %d rows, want %d", est, len(rows), questions)
		}
		return samples, raw, rows
	}
	// scoreFull is rlt score --estimator full's reward of each sample of
	// raw (--samples-out's lines), apart from distill.
	scoreFull := func(raw string) []float64 {
		code, scored, errs := runCLI(t, raw, "score", "--teacher", distillTeacher, "--student", distillStudent,
			"--temperature", "0.7", "--estimator", "full", "--device", "cpu")
		if code != 0 {
			t.Fatalf("rlt score --estimator full of the samples: exit %d: %s", code, errs)
		}
		var rewards []float64
		for i, l := range strings.Split(strings.TrimSpace(scored), "\n") {
			var s struct{ Reward float64 }
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("rlt score line %d: %v: %.200s", i+1, err, l)
			}
			rewards = append(rewards, s.Reward)
		}
		if len(rewards) != n*questions {
			t.Fatalf("rlt score gave %d rewards of %d samples", len(rewards), n*questions)
		}
		return rewards
	}
	body := func(s sample) string { return record.Extract(s.Completion).Body }
	// first is the sample question q keeps by rewards, and whether no
	// rounding ranks another explanation first (firstOf).
	first := func(samples []sample, rewards []float64, q int) (best int, clear bool) {
		var bodies []string
		for _, s := range samples[q*n : (q+1)*n] {
			bodies = append(bodies, body(s))
		}
		return firstOf(rewards[q*n:(q+1)*n], bodies)
	}
	rewardsOf := func(samples []sample) []float64 {
		var rs []float64
		for _, s := range samples {
			rs = append(rs, s.Reward)
		}
		return rs
	}

	// The seed, and its questions the estimators rank alike and apart.
	var seed uint64
	var logratio []sample
	var logratioRaw string
	var logratioRows []string
	var fullScored []float64
	var agree, differ []int
	for _, s := range bestOfSeeds {
		logratio, logratioRaw, logratioRows = distill("logratio", s)
		fullScored = scoreFull(logratioRaw)
		agree, differ = nil, nil
		for q := range questions {
			f, fClear := first(logratio, fullScored, q)
			l, lClear := first(logratio, rewardsOf(logratio), q)
			switch {
			case !fClear || !lClear:
			case body(logratio[q*n+f]) == body(logratio[q*n+l]):
				agree = append(agree, q)
			default:
				differ = append(differ, q)
			}
		}
		t.Logf("--seed %d: the estimators rank questions %v first alike and %v apart (logratio %v, full %v)", s, agree, differ, rewardsOf(logratio), fullScored)
		if len(agree) > 0 && len(differ) > 0 {
			seed = s
			break
		}
	}
	if seed == 0 {
		t.Fatalf("no --seed of %v gives a question whose samples the two estimators rank first alike and one they rank first apart, each clearly: the test cannot tell full from logratio (has --estimator full come to rank as logratio does?)", bestOfSeeds)
	}

	full, _, fullRows := distill("full", seed)
	for i := range full {
		if full[i].Completion != logratio[i].Completion {
			t.Fatalf("--seed %d question %d sample %d: --estimator full sampled %q, logratio %q: the estimator changed the samples", seed, i/n, i%n, full[i].Completion, logratio[i].Completion)
		}
		// The full estimator's rewards are rlt score's.
		if r, s := full[i].Reward, fullScored[i]; math.Abs(r-s) > 1e-5*max(1, math.Abs(s)) {
			t.Errorf("--seed %d sample %d: --samples-out says reward %g with --estimator full, rlt score --estimator full %g", seed, i, r, s)
		}
	}
	// Each distill keeps, of each question, the first sample with the
	// highest of its own rewards, marked kept, its explanation the row.
	for _, d := range []struct {
		est     string
		samples []sample
		rows    []string
	}{{"full", full, fullRows}, {"logratio", logratio, logratioRows}} {
		for q := range questions {
			best, _ := first(d.samples, rewardsOf(d.samples), q)
			for k := range n {
				if d.samples[q*n+k].Kept != (k == best) {
					t.Errorf("--estimator %s question %d: sample %d marked kept %v; the first with the highest reward is %d", d.est, q, k, d.samples[q*n+k].Kept, best)
				}
			}
			row, err := record.ParseRow([]byte(d.rows[q]))
			if err != nil {
				t.Fatalf("--estimator %s: %s row %d: %v", d.est, distillRows, q+1, err)
			}
			if want := body(d.samples[q*n+best]); row.Explanation != want {
				t.Errorf("--estimator %s: %s row %d is %q, want the highest-reward sample's %q", d.est, distillRows, q+1, row.Explanation, want)
			}
		}
	}
	// Where the estimators rank alike the rows are the same; where apart,
	// the full distill keeps full's first (rlt score's), not logratio's.
	for _, q := range agree {
		if fullRows[q] != logratioRows[q] {
			t.Errorf("--seed %d question %d: both estimators rank the same explanation first, yet the rows differ:\n%s\n%s", seed, q, fullRows[q], logratioRows[q])
		}
	}
	for _, q := range differ {
		f, _ := first(logratio, fullScored, q)
		row, err := record.ParseRow([]byte(fullRows[q]))
		if err != nil {
			t.Fatal(err)
		}
		if want := body(logratio[q*n+f]); row.Explanation != want || fullRows[q] == logratioRows[q] {
			t.Errorf("--seed %d question %d: --estimator full kept %q; want full's first, sample %d's %q, not logratio's row %s", seed, q, row.Explanation, f, want, logratioRows[q])
		}
	}
}

// rankMargin is how far, relative to its size (at least 1), a question's
// first sample's reward must be ahead of another explanation's for a test
// to count on its rank (TestDistillBestOfFullEstimator,
// TestDistillBestOfKeepsTheHighestReward): a thousand times the 1e-5
// within which rlt distill's and rlt score's rewards of the same sample
// agree, batched apart.
const rankMargin = 1e-2

// firstOf is the sample of a question's rewards that rlt distill --best-of
// keeps (the first with the highest), and whether it is ahead of every
// sample of another explanation (bodies, each sample's) by more than
// rankMargin: clear where no rounding of the rewards, another CPU's or
// another batch's, ranks another explanation first.
func firstOf(rewards []float64, bodies []string) (best int, clear bool) {
	for k := range rewards {
		if rewards[k] > rewards[best] {
			best = k
		}
	}
	top := rewards[best]
	for k := range rewards {
		if bodies[k] != bodies[best] && rewards[k] > top-rankMargin*max(1, math.Abs(top)) {
			return best, false
		}
	}
	return best, true
}

// bestOfSeeds are the seeds a --best-of test tries in turn for samples
// that tell what it checks, 3 first (it gave them where the tests were
// written): which do depends on the floats of the CPU the test runs on,
// and a test that finds none in them fails saying so.
var bestOfSeeds = []uint64{3, 1, 2, 4, 5, 6, 7, 8}

// rewardFits measures each data row's teacher prompt and student context
// once, though it checks them against two pairs of positions (the
// distilled student's and the reward's), where it tokenized them for
// each; and each reason is the first pair's, else the reward's with its
// student named by its folder.
func TestRewardFitsMeasuresEachRowOnce(t *testing.T) {
	tok, err := loadTokenizer(distillTeacher)
	if err != nil {
		t.Fatal(err)
	}
	p := record.DefaultPrompts()
	ex := task.Example{Question: "12+34=?", Solution: "46"}
	teacher, student := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
	const maxNew, initDir, rewardDir = 8, "/tmp/init-student", "/tmp/reward-student"
	fits, short := student+maxNew, student+maxNew-1 // a student's positions that leave the budget, and one fewer
	for _, c := range []struct {
		name       string
		pos        rlt.Positions // the distilled pair's
		rewardPos  int
		initDir    string
		rewardDir  string
		wantPrefix string // "" = it fits
	}{
		{"fits both", rlt.Positions{Teacher: teacher + maxNew, Student: fits}, fits, "", rewardDir, ""},
		{"too long for the teacher", rlt.Positions{Teacher: teacher + maxNew - 1, Student: fits}, fits, initDir, rewardDir, "too long for the teacher: "},
		{"too long for the distilled student", rlt.Positions{Teacher: teacher + maxNew, Student: short}, short, "", rewardDir, "too long for the student: "},
		// Named by its folder, as the reward's is (it was "the student").
		{"too long for --student-init's student", rlt.Positions{Teacher: teacher + maxNew, Student: short}, short, initDir, rewardDir, "too long for the student " + initDir + ": "},
		{"too long for the reward's student", rlt.Positions{Teacher: teacher + maxNew, Student: fits}, short, initDir, rewardDir, "too long for the student " + rewardDir + ": "},
		{"no reward's student", rlt.Positions{Teacher: teacher + maxNew, Student: fits}, 0, "", "", ""},
		{"no reward's student, too long for --student-init's", rlt.Positions{Teacher: teacher + maxNew, Student: short}, 0, initDir, "", "too long for the student " + initDir + ": "},
	} {
		enc := &countingEncoder{Encoder: tok, texts: map[string]int{}}
		why := rewardFits(enc, p, maxNew, c.pos, c.rewardPos, c.initDir, c.rewardDir)(ex)
		if (c.wantPrefix == "") != (why == "") || !strings.HasPrefix(why, c.wantPrefix) {
			t.Errorf("%s: reason %q, want one starting %q", c.name, why, c.wantPrefix)
		}
		if n := enc.texts[p.TeacherPrompt(ex.Question, ex.Solution)]; n != 1 {
			t.Errorf("%s: the teacher's prompt was tokenized %d times, want once", c.name, n)
		}
	}
}

// countingEncoder is a tokenizer that counts the texts it encodes.
type countingEncoder struct {
	rlt.Encoder
	texts map[string]int
}

func (c *countingEncoder) Encode(text string) []int32 {
	c.texts[text]++
	return c.Encoder.Encode(text)
}

// A student ranked from a --data file records the file, absolute, with its
// bytes' SHA-256 (as a run's trainer.json records its data's) and the
// questions ranked, the first --questions usable rows: a row too long for
// the models is not one of them. It recorded neither, nor the seed.
func TestDistillBestOfRecordsItsData(t *testing.T) {
	dir := t.TempDir()
	rows := []string{
		`{"question": "` + strings.Repeat("1+", 200) + `1=?", "solution": "201"}`,
		`{"question": "12+5=?", "solution": "17"}`,
		`{"question": "3+4=?", "solution": "7"}`,
		`{"question": "20+22=?", "solution": "42"}`,
	}
	data, out := filepath.Join(dir, "rows.jsonl"), filepath.Join(dir, "out")
	b := []byte(strings.Join(rows, "\n") + "\n")
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "", "distill", "--teacher", distillTeacher, "--data", data, "--best-of", "2", "--reward-student", distillStudent,
		"--out", out, "--questions", "2", "--steps", "1", "--batch", "2", "--max-new-tokens", "8", "--seed", "5", "--device", "cpu")
	if code != 0 {
		t.Fatalf("distill --best-of 2 --data: exit %d: %s", code, errs)
	}
	ranking, _ := readRanking(t, out)
	abs := absPath // as the ranking records folders
	sum := sha256.Sum256(b)
	want := record.Ranking{BestOf: 2, Reward: record.DefaultRewardConfig(), Teacher: abs(distillTeacher), RewardStudent: abs(distillStudent),
		Data: abs(data), DataSHA256: hex.EncodeToString(sum[:]), Questions: 2, MaxNewTokens: 8, Seed: 5}
	if ranking != want {
		t.Errorf("%s records %+v, want %+v", record.RankingFile, ranking, want)
	}
}

// taskFits (rlt distill's and rlt eval's drawn questions) measures each
// question's prompts once, though it checks them more than once: against
// the prompt's model's positions (taskPromptsFit), then with
// --max-new-tokens more (budgetFits) for each student (rlt distill's
// distilled student and --best-of's reward student), where each check
// tokenized them; with a teacher and without one (the student's own
// prompt), fitting and refused by the budget, as many encodings as one
// measure of each question.
func TestTaskFitsMeasuresEachQuestionOnce(t *testing.T) {
	tok, err := loadTokenizer(distillTeacher)
	if err != nil {
		t.Fatal(err)
	}
	p := record.DefaultPrompts()
	exs := []task.Example{{Question: "12+34=?", Solution: "46"}, {Question: "5+6=?", Solution: "11"}, {Question: "12+34=?", Solution: "46"}}
	const maxNew = 8
	for _, c := range []struct {
		name    string
		tdir    string // "" = the student's own prompt
		wantErr bool
	}{
		{"a teacher, fitting", distillTeacher, false},
		{"a teacher, past the budget", distillTeacher, true},
		{"the student's own prompt, fitting", "", false},
		{"the student's own prompt, past the budget", "", true},
	} {
		// One measure of each distinct question, as taskFits should.
		once := &countingEncoder{Encoder: tok, texts: map[string]int{}}
		teacher, student := 0, 0
		for _, ex := range exs[:2] {
			if c.tdir == "" {
				student = max(student, len(rlt.SolvePrompt(once, p, ex.Question)))
			} else {
				tl, sl := rlt.PromptLengths(once, p, ex.Question, ex.Solution)
				teacher, student = max(teacher, tl), max(student, sl)
			}
		}
		pos := rlt.Positions{Student: student + maxNew}
		if c.tdir != "" {
			pos.Teacher = teacher + maxNew
		}
		if c.wantErr { // room for every prompt, not for the budget
			pos.Student--
		}
		enc := &countingEncoder{Encoder: tok, texts: map[string]int{}}
		students := []fitStudent{{positions: pos.Student, dir: "student-dir"}}
		if c.tdir != "" { // rlt distill's two students, the second the one refused where any is
			students = []fitStudent{{positions: pos.Student + 1, dir: "distilled-dir"}, {positions: pos.Student, dir: "reward-dir"}}
		}
		err := taskFits(pos.Teacher, maxNew, nil, exs, promptLengths(enc, p, c.tdir), c.tdir, students...)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: %v, want an error: %v", c.name, err, c.wantErr)
		}
		var got, want int
		for _, n := range enc.texts {
			got += n
		}
		for _, n := range once.texts {
			want += n
		}
		if got != want {
			t.Errorf("%s: %d texts encoded, want %d (each question's once): %v", c.name, got, want, enc.texts)
		}
	}
}

// readRanking reads the ranking a --best-of distill recorded in its
// student's folder under out (record.RankingFile), and the file as written.
func readRanking(t *testing.T, out string) (record.Ranking, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "student", record.RankingFile))
	if err != nil {
		t.Fatalf("the distilled student's folder records no ranking: %v", err)
	}
	ranking, ok, err := record.ReadRanking(filepath.Join(out, "student"))
	if err != nil || !ok {
		t.Fatalf("%s: %v: %s", record.RankingFile, err, b)
	}
	return ranking, b
}
