package vulkantest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan"
)

// TestNeedMatmulChild is NeedMatmul's caller for TestNeedMatmul: run alone
// (RLT_MATMUL_CHILD the precision) it meets a refusal of that precision,
// for the reason RLT_MATMUL_WHY names.
func TestNeedMatmulChild(t *testing.T) {
	precision := os.Getenv("RLT_MATMUL_CHILD")
	if precision == "" {
		t.Skip("TestNeedMatmul's child")
	}
	err := errors.New("the driver failed to build gemm")
	if os.Getenv("RLT_MATMUL_WHY") == "none" {
		err = fmt.Errorf("lavapipe does not run gemmcm: %w", compute.ErrNoMatmulF16)
	}
	NeedMatmul(t, precision, err)
	t.Log("went on")
}

// TestNeedMatmul: a refusal of float32 products fails, naming float32 (it
// said "float16 products refused", through NeedCoopMat, for every
// precision), even where its cause is a device without tensor cores; a
// precision that is neither fails naming it; float16's refusal skips or
// fails as NeedCoopMat says; no refusal goes on. Each runs this test
// binary again, as a child, for the test's outcome.
func TestNeedMatmul(t *testing.T) {
	for _, c := range []struct {
		precision, why string
		fail           bool
		want, not      string
	}{
		{vulkan.MatmulF32, "", true, "float32 products (matmul f32) refused: the driver failed to build gemm", "float16"},
		{vulkan.MatmulF32, "none", true, "float32 products (matmul f32) refused: lavapipe does not run gemmcm", "SKIP"},
		{"bf16", "", true, `matmul "bf16" refused: the driver failed to build gemm`, "float16 products"},
		{vulkan.MatmulF16, "", true, "float16 products refused for another reason than a device without cooperative matrices: the driver failed to build gemm", "float32"},
		{vulkan.MatmulF16, "none", false, "--- SKIP: TestNeedMatmulChild", "float32"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNeedMatmulChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "RLT_MATMUL_CHILD="+c.precision, "RLT_MATMUL_WHY="+c.why, "RLT_REQUIRE_COOPMAT=")
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.fail || !strings.Contains(string(out), c.want) || strings.Contains(string(out), c.not) || strings.Contains(string(out), "went on") {
			t.Errorf("matmul %s refused (%q): error %v, want failed %v, %q and not %q, not going on:\n%s", c.precision, c.why, err, c.fail, c.want, c.not, out)
		}
	}
	wentOn := false
	t.Run("no refusal", func(t *testing.T) {
		NeedMatmul(t, vulkan.MatmulF32, nil)
		wentOn = true
	})
	if !wentOn {
		t.Error("NeedMatmul(f32, nil) did not go on")
	}
}
