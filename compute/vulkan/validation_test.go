package vulkan

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// TestValidationLayer re-runs the device tests in a child process under
// Khronos' validation layer with synchronization validation, and fails on
// any message (backendtest.UnderValidationLayer): lavapipe runs through
// misuse and missing barriers that a real GPU would not forgive. It skips
// where the layer is not installed (Debian: vulkan-validationlayers).
func TestValidationLayer(t *testing.T) {
	openOrSkip(t)
	backendtest.UnderValidationLayer(t, "^(TestConformance|TestBackendConformance|TestTrainingSteps|TestAttention|TestAttentionDecodeTiles|TestUploadsAcrossBatches|TestHostResults|TestProfile|TestBackendConformanceSplitK|TestGemv|TestBackendConformanceDescriptorSets|TestScatterRows|TestConvert|TestGemm128|TestBackendConformance128|TestWithoutOptionalKernels|TestGemmCoop|TestGemmCoopRounds|TestBackendConformanceCoop|TestSumSquaresEachWaitsOnce|TestDrawTokens|TestAttnTilesFor|TestBackendConformanceKicks|TestBarriersFollowHazards|TestBackendConformanceWindows|TestBackendConformanceWindowsCoop|TestWindowsElementwise|TestCloseAfterLoss|TestScratchGrowthFreesTheOld)$")
}
