package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: rlt version and rlt --version say the build (--version was
// taken as an unknown flag of rlt run), and versionLine says each kind of
// build information in one line.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runCLI(t, "", args...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "rlt ") || !strings.Contains(out, ", go1.") || strings.Count(out, "\n") != 1 {
			t.Errorf("rlt %s: exit %d, stdout %q, stderr %q; want exit 0 and one line saying the build", args[0], code, out, errs)
		}
	}
	if code, _, errs := runCLI(t, "", "version", "x"); code != 2 || !strings.Contains(errs, `unexpected argument "x"`) {
		t.Errorf("rlt version x: exit %d, stderr %q; want exit 2 naming the argument", code, errs)
	}
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		what string
		bi   debug.BuildInfo
		want string
	}{
		{"a clean checkout", debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "abc123", "vcs.time", "2026-12-06T14:29:05Z", "vcs.modified", "false")},
			"rlt (devel) revision abc123 (2026-12-06T14:29:05Z), go1.24.1"},
		{"a modified checkout", debug.BuildInfo{GoVersion: "go1.24.1", Main: debug.Module{Version: "v0.3.0"},
			Settings: vcs("vcs.revision", "abc123", "vcs.time", "2026-12-06T14:29:05Z", "vcs.modified", "true")},
			"rlt v0.3.0 revision abc123 (2026-12-06T14:29:05Z, modified), go1.24.1"},
		{"no VCS stamp", debug.BuildInfo{GoVersion: "go1.24.1"},
			"rlt (devel) revision unknown (built without VCS stamping: go run, -buildvcs=false, a git worktree, or outside a git clone; go build -buildvcs=true in a git clone stamps it), go1.24.1"},
	} {
		if got := versionLine(&c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.what, got, c.want)
		}
	}
}
