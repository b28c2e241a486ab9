package backendtest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNeedCoopMatChild is NeedCoopMat's caller for TestNeedCoopMat: run
// alone (RLT_COOPMAT_CHILD=1) it meets a device without cooperative
// matrices.
func TestNeedCoopMatChild(t *testing.T) {
	if os.Getenv("RLT_COOPMAT_CHILD") != "1" {
		t.Skip("TestNeedCoopMat's child")
	}
	NeedCoopMat(t, errors.New("lavapipe does not run gemmcm"))
	t.Log("went on")
}

// TestNeedCoopMat: a test whose device has no float16 cooperative matrices
// skips, saying why and how to make it a failure, and fails under
// RLT_REQUIRE_COOPMAT=1; a device that has them (no error) goes on. Each
// runs this test binary again, as a child, for the test's outcome.
func TestNeedCoopMat(t *testing.T) {
	for _, c := range []struct {
		env  string
		fail bool
		want string
	}{
		{"", false, "--- SKIP: TestNeedCoopMatChild"},
		{"0", false, "RLT_REQUIRE_COOPMAT=1 makes this a failure): lavapipe does not run gemmcm"},
		{"1", true, "RLT_REQUIRE_COOPMAT=1 and no float16 cooperative matrices: lavapipe does not run gemmcm"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNeedCoopMatChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "RLT_COOPMAT_CHILD=1", "RLT_REQUIRE_COOPMAT="+c.env)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fail || !strings.Contains(string(out), c.want) || strings.Contains(string(out), "went on") {
			t.Errorf("RLT_REQUIRE_COOPMAT=%q: error %v, want failed %v and %q, not going on:\n%s", c.env, err, c.fail, c.want, out)
		}
	}
	wentOn := false
	t.Run("a device with them", func(t *testing.T) {
		NeedCoopMat(t, nil)
		wentOn = true
	})
	if !wentOn {
		t.Error("NeedCoopMat(nil) did not go on")
	}
}
