package backendtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// TestNeedCoopMatChild is NeedCoopMat's caller for TestNeedCoopMat: run
// alone (RLT_COOPMAT_CHILD=1) it meets a device without cooperative
// matrices, or (RLT_COOPMAT_CHILD=other) a device whose float16 products
// failed for another reason.
func TestNeedCoopMatChild(t *testing.T) {
	switch os.Getenv("RLT_COOPMAT_CHILD") {
	case "1":
		NeedCoopMat(t, fmt.Errorf("lavapipe does not run gemmcm: %w", compute.ErrNoMatmulF16))
	case "other":
		NeedCoopMat(t, errors.New("the driver failed to build gemmcm"))
	default:
		t.Skip("TestNeedCoopMat's child")
	}
	t.Log("went on")
}

// TestNeedCoopMat: a test whose device has no float16 cooperative matrices
// (compute.ErrNoMatmulF16) skips, saying why and how to make it a failure,
// and fails under RLT_REQUIRE_COOPMAT=1; any other error fails, with or
// without it (a device with cooperative matrices that failed to build
// its kernels must not pass by skipping); a device that has them (no
// error) goes on. Each runs this test binary again, as a child, for the
// test's outcome.
func TestNeedCoopMat(t *testing.T) {
	for _, c := range []struct {
		child, env string
		fail       bool
		want       string
	}{
		{"1", "", false, "--- SKIP: TestNeedCoopMatChild"},
		{"1", "0", false, "RLT_REQUIRE_COOPMAT=1 makes this a failure): lavapipe does not run gemmcm"},
		{"1", "1", true, "RLT_REQUIRE_COOPMAT=1 and no float16 cooperative matrices: lavapipe does not run gemmcm"},
		{"other", "", true, "float16 products refused for another reason than a device without cooperative matrices: the driver failed to build gemmcm"},
		{"other", "1", true, "for another reason than a device without cooperative matrices: the driver failed to build gemmcm"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNeedCoopMatChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "RLT_COOPMAT_CHILD="+c.child, "RLT_REQUIRE_COOPMAT="+c.env)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fail || !strings.Contains(string(out), c.want) || strings.Contains(string(out), "went on") {
			t.Errorf("RLT_COOPMAT_CHILD=%s RLT_REQUIRE_COOPMAT=%q: error %v, want failed %v and %q, not going on:\n%s", c.child, c.env, err, c.fail, c.want, out)
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
