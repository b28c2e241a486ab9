package rlt

import (
	"context"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/compute/vulkan/vulkantest"
	"github.com/rlt-workbench/rlt/engine/record"
)

// TestScoreOnALostDevice: a device lost at any batch of scoring
// (RLT_VULKAN_LOSE_AFTER, as a driver reports VK_ERROR_DEVICE_LOST at a
// fence) fails Score with the loss; it never hands back scores computed
// from what a lost device reads back (zeros: the log-probs of the last
// forward before a read were taken as real, and rlt score wrote rewards of
// r_ss 0 as valid records). Every full KL estimator's pass is covered too.
func TestScoreOnALostDevice(t *testing.T) {
	vulkantest.Backend(t) // skips without a device, fails under RLT_REQUIRE_GPU=1
	tdir, sdir, prompts := defaultModels(t)
	items := []Item{
		{Question: "347+285=?", Solution: "632", Explanation: "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632", Ended: true},
		{Question: "9+9=?", Solution: "18", Explanation: "9+9=18 w8 c1; ans 18", Ended: true},
	}
	score := func(t *testing.T, be compute.Backend, est record.Estimator) ([]record.Scored, error) {
		pair, err := LoadPair(be, tdir, sdir, prompts)
		if err != nil {
			t.Fatal(err)
		}
		rc := record.DefaultRewardConfig()
		rc.Estimator = est
		s, err := NewScorer(pair, rc)
		if err != nil {
			t.Fatal(err)
		}
		return s.Score(context.Background(), items)
	}
	for _, est := range []record.Estimator{record.DefaultRewardConfig().Estimator, record.FullKL} {
		t.Run(string(est), func(t *testing.T) {
			want, err := score(t, compute.NewCPU(), est)
			if err != nil {
				t.Fatal(err)
			}
			lost := 0
			for n := 1; ; n++ {
				t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(n))
				got, err := score(t, vulkantest.Backend(t), est)
				if err != nil {
					if !errors.Is(err, vulkan.ErrDeviceLost) {
						t.Fatalf("lost at batch %d: %v, want the device's loss", n, err)
					}
					lost++
					continue
				}
				// The device outlived scoring: every batch after this one
				// comes after the last read.
				for i := range want {
					if w, g := want[i].Terms.Reward, got[i].Terms.Reward; math.Abs(w-g) > 1e-4*(1+math.Abs(w)) {
						t.Errorf("lost at batch %d, no error: item %d's reward %v, the CPU's %v", n, i, g, w)
					}
				}
				if lost == 0 {
					t.Fatalf("scoring took no batch at all")
				}
				break
			}
		})
	}
}
