package vulkan

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// TestBackendConformance runs the Backend conformance suite on the device, with
// the fused head's chunk small enough that the test shapes span chunks.
func TestBackendConformance(t *testing.T) {
	old := headChunkFloats
	headChunkFloats = 1 << 10
	defer func() { headChunkFloats = old }()
	backendtest.Run(t, func(t *testing.T) compute.Backend {
		return NewBackend(openOrSkip(t))
	})
}
