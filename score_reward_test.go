package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// wantRewardSaid fails unless stderr says line (with its newline) once,
// before the first of after that it holds (what the scoring says as it
// goes or at its end).
func wantRewardSaid(t *testing.T, what, stderr, line string, after ...string) {
	t.Helper()
	if n := strings.Count(stderr, line+"\n"); n != 1 {
		t.Errorf("%s: stderr says %q %d times, want once:\n%s", what, line, n, stderr)
		return
	}
	for _, a := range after {
		if i, j := strings.Index(stderr, line), strings.Index(stderr, a); j >= 0 && j < i {
			t.Errorf("%s: stderr says %q before the reward:\n%s", what, a, stderr)
		}
	}
}

// rlt score says, once and before it scores, the reward it scores with,
// resolved (RLT.md §3), in rlt distill --best-of's words (rewardLine):
// on every path that builds a scorer — two model folders on stdin, a
// server that computes at temperature 1 whatever is asked (the
// temperature said is the one scored at), a run's traces with its
// config.toml's [reward] (and a flag given over it, said as winning), and
// --teacher-of-step, whose step teachers score under the same reward and
// do not say it again. It said none.
func TestScoreSaysItsReward(t *testing.T) {
	student, _ := filepath.Abs(embeddedStudent)
	const in = `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}` + "\n"
	const defaults = "reward: c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio, against the frozen student "

	code, _, errs := runCLI(t, in, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu")
	if code != 0 {
		t.Fatalf("stdin: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "stdin", errs, defaults+embeddedStudent, "done")
	code, _, errs = runCLI(t, in, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu", "--c3", "1", "--estimator", "k3")
	if code != 0 {
		t.Fatalf("stdin with flags: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "stdin with flags", errs, "reward: c1 1 c2 0.01 c3 1 c4 0.03 · penalty -1 · τ 0.7 · k3, against the frozen student "+embeddedStudent, "done")

	rawURL := rawProxy(t, startServe(t, "--model", embeddedTeacher))
	code, _, errs = runCLI(t, in, "score", "--teacher", rawURL, "--student", embeddedStudent, "--device", "cpu")
	if code != 0 {
		t.Fatalf("a server at temperature 1: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "a server at temperature 1", errs, "reward: c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 1 · logratio, against the frozen student "+embeddedStudent, "done")

	dir, _, _ := stepRun(t)
	config := filepath.Join(dir, "config.toml") + "'s [reward]"
	for _, c := range []struct {
		name string
		args []string
		line string
	}{
		{"--run", nil, defaults + student + " (" + config + ")"},
		{"--run with a flag over its [reward]", []string{"--c4", "0"},
			"reward: c1 1 c2 0.01 c3 3 c4 0 · penalty -1 · τ 0.7 · logratio, against the frozen student " + student + " (" + config + "; the flags given win: --c4 0 over its 0.03)"},
		{"--run --teacher-of-step", []string{"--teacher-of-step"}, defaults + student + " (" + config + ")"},
	} {
		code, _, errs := runCLI(t, "", append([]string{"score", "--device", "cpu", "--run", dir}, c.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, errs)
		}
		wantRewardSaid(t, c.name, errs, c.line, "scored ")
	}
}

// Rows that record the reward they were ranked with (rlt distill
// --samples-out's "reward_config") are scored with it where no flag says
// otherwise, as a run's traces are with its config.toml's: a flag given
// wins over the rows' value, and is said to. Every row that records one
// must record the first row's (the flags given over each): one that does
// not is its line's error, naming the values, the others scored; a row
// that records none is scored with the first's. A first row whose
// reward_config cannot be read or scored with stops the command before
// any model loads. rlt score scored every row with its defaults, the
// rows' reward_config unread.
func TestScoreRowsWithTheirRewardConfig(t *testing.T) {
	const k3 = `"reward_config":{"temperature":0.9,"solution_mean":1,"solution_min":0.01,"kl_mean":0.5,"kl_max":0.03,"format_penalty":-1,"estimator":"k3"}`
	row := func(q, s, e, extra string) string {
		r := `{"question":"` + q + `","solution":"` + s + `","explanation":"` + e + `"`
		if extra != "" {
			r += "," + extra
		}
		return r + "}\n"
	}
	plain := row("347+285=?", "632", "7+5=12 w2 c1; 4+8+1=13", "") + row("12+9=?", "21", "2+9=11 w1 c1", "")
	recorded := row("347+285=?", "632", "7+5=12 w2 c1; 4+8+1=13", k3) + row("12+9=?", "21", "2+9=11 w1 c1", k3)
	args := []string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}
	score := func(in string, flags ...string) (int, []map[string]any, string) {
		t.Helper()
		code, out, errs := runCLI(t, in, append(args, flags...)...)
		return code, scoreLines(t, out), errs
	}
	code, want, errs := score(plain, "--temperature", "0.9", "--c3", "0.5", "--estimator", "k3")
	if code != 0 {
		t.Fatalf("the rows with the flags of their reward_config: exit %d: %s", code, errs)
	}
	code, got, errs := score(recorded)
	if code != 0 {
		t.Fatalf("the rows with their reward_config: exit %d: %s", code, errs)
	}
	sameScores(t, "rows scored with their reward_config", got, want)
	own := got
	wantRewardSaid(t, "rows with their reward_config", errs,
		"reward: c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3, against the frozen student "+embeddedStudent+" (stdin line 1's reward_config)", "done")
	// Leading blank lines: the first row is on line 3, and said so.
	if code, got, errs = score("\n\n" + recorded); code != 0 || !strings.Contains(errs, "(stdin line 3's reward_config)") {
		t.Errorf("after blank lines: exit %d: %s", code, errs)
	}
	sameScores(t, "after blank lines", got, want, "line")

	// A flag given wins over the value the rows record, and is said to.
	code, want, errs = score(plain, "--temperature", "0.9", "--c3", "0.5", "--estimator", "logratio", "--c4", "0")
	if code != 0 {
		t.Fatalf("the rows with the flags: exit %d: %s", code, errs)
	}
	code, got, errs = score(recorded, "--estimator", "logratio", "--c4", "0", "--c3", "0.5")
	if code != 0 {
		t.Fatalf("the rows with flags over their reward_config: exit %d: %s", code, errs)
	}
	sameScores(t, "flags over the rows' reward_config", got, want)
	wantRewardSaid(t, "flags over the rows' reward_config", errs,
		"reward: c1 1 c2 0.01 c3 0.5 c4 0 · penalty -1 · τ 0.9 · logratio, against the frozen student "+embeddedStudent+
			" (stdin line 1's reward_config; the flags given win: --c4 0 over its 0.03, --estimator logratio over its k3)", "done")

	// A row recording another reward is its line's error (a key it lacks
	// is the default's, as in a [reward] table); one recording none is
	// scored with the first's.
	other := `"reward_config":{"temperature":0.7,"kl_mean":3}`
	mixed := recorded + row("12+9=?", "21", "2+9=11 w1 c1", other) + row("12+9=?", "21", "2+9=11 w1 c1", "")
	code, got, errs = score(mixed)
	if code != 1 || len(got) != 4 || !strings.Contains(errs, "1 input line failed") {
		t.Fatalf("a row of another reward: exit %d, %d lines: %s", code, len(got), errs)
	}
	wantErr := "its reward_config (c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio) is not the reward the rows are scored with " +
		"(c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3; as line 1's reward_config records it): " +
		"score the rows of each reward_config apart, or give --c3, --temperature and --estimator to score every row with the value given"
	if got[2]["line"] != 3.0 || got[2]["error"] != wantErr {
		t.Errorf("the row of another reward says %v, want line 3 and %q", got[2], wantErr)
	}
	sameScores(t, "the rows around it", []map[string]any{got[0], got[1], got[3]}, []map[string]any{own[0], own[1], own[1]}, "line")
	// The flags of the values that differ score every row with them.
	if code, got, errs = score(mixed, "--c3", "2", "--temperature", "0.8", "--estimator", "k3"); code != 0 || len(got) != 4 {
		t.Errorf("the differing values given as flags: exit %d, %d lines: %s", code, len(got), errs)
	}
	// A first row that records none holds the rest to the defaults.
	code, got, _ = score(plain + row("12+9=?", "21", "2+9=11 w1 c1", k3))
	if code != 1 || len(got) != 3 || !strings.Contains(got[2]["error"].(string), "(c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio; line 1 records no reward_config)") {
		t.Errorf("a reward_config after a first row without one: exit %d: %v", code, got)
	}
	// A first row longer than the look ahead (1 MiB, here by a field no
	// reader reads) records a reward_config not read before the scorer is
	// built: its rows are held to the defaults, and said to be for that
	// reason, not as if the line recorded none; the flags still score
	// them. Before, each said "line 1 records no reward_config".
	long := row("347+285=?", "632", "7+5=12 w2 c1; 4+8+1=13", `"pad":"`+strings.Repeat("x", 1<<20)+`",`+k3) + row("12+9=?", "21", "2+9=11 w1 c1", k3)
	code, got, errs = score(long)
	wantCut := "its reward_config (c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3) is not the reward the rows are scored with " +
		"(c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio; line 1 is longer than the 1 MiB read before the models load, so no reward_config of it was read): " +
		"give --c3, --temperature and --estimator to score every row with the value given"
	if code != 1 || len(got) != 2 || got[0]["error"] != wantCut || got[1]["error"] != wantCut {
		t.Errorf("a first row longer than the look ahead: exit %d: %v, want each line's error %q\n%s", code, got, wantCut, errs)
	}
	if code, got, errs = score(long, "--c3", "0.5", "--temperature", "0.9", "--estimator", "k3"); code != 0 || len(got) != 2 {
		t.Errorf("a first row longer than the look ahead, the flags of its reward_config given: exit %d, %d lines: %s", code, len(got), errs)
	}
	sameScores(t, "a first row longer than the look ahead, the flags given", got, own, "line")

	// A first row's reward_config that cannot be read, or scored with:
	// nothing is scored.
	for _, c := range []struct{ name, extra, want string }{
		{"an unknown key", `"reward_config":{"klmax":0}`,
			`rlt score: stdin line 1: reward_config: unknown key "klmax" (known: temperature, solution_mean, solution_min, kl_mean, kl_max, format_penalty, estimator), so nothing was scored: mend it, or remove it to score with the defaults and the flags given`},
		{"values Validate refuses", `"reward_config":{"temperature":0,"estimator":"l2"}`,
			`rlt score: stdin line 1 records a reward_config that cannot be scored with, so nothing was scored: temperature 0 must be a finite positive number; estimator "l2": want "logratio", "k3" or "full": mend the line, or give --temperature and --estimator to score with a value of your own`},
	} {
		code, out, errs := runCLI(t, row("1+2=?", "3", "1+2=3", c.extra), args...)
		if code != 1 || out != "" || strings.TrimSpace(errs) != c.want {
			t.Errorf("%s: exit %d, stdout %q, stderr\n%s\nwant\n%s", c.name, code, out, errs, c.want)
		}
	}
	// A flag given over the value refused scores with the flag's.
	if code, _, errs := runCLI(t, row("1+2=?", "3", "1+2=3", `"reward_config":{"temperature":0}`), append(args, "--temperature", "0.7")...); code != 0 {
		t.Errorf("--temperature over a reward_config's 0: exit %d: %s", code, errs)
	}
}
