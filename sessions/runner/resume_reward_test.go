package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// A resume trains with the reward the run was started with: a key its
// config.toml's [reward] lacks (a hand edit; every version wrote all of
// them) is its default (sessions.RunReward's rule, rlt score --run's and
// the viewers'), said in the resume's notes, where it trained at 0 (kl_max
// dropped: c4 0) unsaid. A value the engine refuses is refused at its
// line with its key, the run as it was.
func TestResumeTrainsWithTheRewardItStartedWith(t *testing.T) {
	runs, dir := oneStepRun(t)
	path := filepath.Join(dir, sessions.ConfigFile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		t.Helper()
		before, after, ok := strings.Cut(string(text), "[reward]\n")
		if !ok || !strings.Contains(after, old) {
			t.Fatalf("no %q in [reward] of\n%s", old, text)
		}
		return before + "[reward]\n" + strings.Replace(after, old, new, 1)
	}
	lineOf := func(s, prefix string) int {
		t.Helper()
		for i, ln := range strings.Split(s, "\n") {
			if strings.HasPrefix(ln, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no %q in\n%s", prefix, s)
		return 0
	}
	kl0 := record.DefaultRewardConfig()
	kl0.KLMax = 0
	zeroTemp := edit("temperature = 0.7\n", "temperature = 0.0\n")
	for _, c := range []struct {
		name, text string
		reward     record.RewardConfig // trained with
		note       string              // among the resume's notes ("": none of [reward])
		refused    []string            // the refusal's lines, where refused
	}{
		{"every key", string(text), record.DefaultRewardConfig(), "", nil},
		{"kl_max dropped", edit("kl_max = 0.03\n", ""), record.DefaultRewardConfig(),
			path + "'s [reward] does not set kl_max, so the run trains with its default: kl_max 0.03", nil},
		{"kl_max 0 given", edit("kl_max = 0.03\n", "kl_max = 0.0\n"), kl0, "", nil},
		{"a temperature of 0", zeroTemp, record.RewardConfig{}, "", []string{
			"resume " + dir + ": " + path + " cannot run, so the run is unchanged: fix the file, or open the run read-only",
			fmt.Sprintf("%s:%d:1: reward.temperature 0 must be a finite positive number", path, lineOf(zeroTemp, "temperature = 0.0"))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := OpenForResume(dir, Overrides{Steps: 2, StepsGiven: true}, sessions.ProcessHeadless)
			if c.refused != nil {
				if err == nil {
					r.Rec.Close()
				}
				if err == nil || err.Error() != strings.Join(c.refused, "\n") {
					t.Errorf("resume:\n%v\nwant\n%s", err, strings.Join(c.refused, "\n"))
				}
				if list, err := sessions.List(runs); err != nil || len(list) != 1 || list[0].State != sessions.StateFinished {
					t.Errorf("after the refused resume the run is listed as %+v (%v), want finished", list, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Rec.Close()
			if got := r.Checked.Config().Reward; got != c.reward {
				t.Errorf("the resume trains with %+v, want %+v", got, c.reward)
			}
			said := slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "[reward]") })
			if c.note == "" && said || c.note != "" && !slices.Contains(r.Notes, c.note) {
				t.Errorf("the resume's notes: %q, want %q", r.Notes, c.note)
			}
		})
	}
}
