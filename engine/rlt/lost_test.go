package rlt

import (
	"context"
	"errors"
	"fmt"
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
//
// Each loss needs a device of its own (a lost one stays lost), but no
// device is opened only to be checked for or only to outlive a scoring:
// the first device opened, which skips the test where there is none,
// takes the first loss, and the device that outlives an estimator's
// scoring (lost at batch n, the scoring took n−1) is lost at its next
// batch, so it takes the next estimator's loss at its first batch on the
// pair it holds. Six devices, not eight, for the five losses and the two
// scorings that end each estimator's; the second estimator's first loss
// comes after a scoring that went well, as a run's device is lost mid-run.
func TestScoreOnALostDevice(t *testing.T) {
	// The first device, lost at its first batch, skips the test without
	// one and fails it under RLT_REQUIRE_GPU=1.
	t.Setenv("RLT_VULKAN_LOSE_AFTER", "1")
	outlived := vulkantest.Backend(t)
	var outlivedPair *Pair
	tdir, sdir, prompts := defaultModels(t)
	items := []Item{
		{Question: "347+285=?", Solution: "632", Explanation: "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632", Ended: true},
		{Question: "9+9=?", Solution: "18", Explanation: "9+9=18 w8 c1; ans 18", Ended: true},
	}
	load := func(be compute.Backend) *Pair {
		pair, err := LoadPair(be, tdir, sdir, prompts)
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	score := func(pair *Pair, est record.Estimator) ([]record.Scored, error) {
		rc := record.DefaultRewardConfig()
		rc.Estimator = est
		s, err := NewScorer(pair, rc)
		if err != nil {
			t.Fatal(err)
		}
		return s.Score(context.Background(), items)
	}
	// rewardsDiffer says where got's rewards are not want's (the CPU's).
	rewardsDiffer := func(got, want []record.Scored) string {
		if len(got) > len(want) {
			return fmt.Sprintf("%d scores for %d items", len(got), len(want))
		}
		for i := range got {
			if w, g := want[i].Terms.Reward, got[i].Terms.Reward; math.Abs(w-g) > 1e-4*(1+math.Abs(w)) {
				return fmt.Sprintf("item %d's reward %v, the CPU's %v", i, g, w)
			}
		}
		return ""
	}
	cpu := load(compute.NewCPU())
	for _, est := range []record.Estimator{record.DefaultRewardConfig().Estimator, record.FullKL} {
		want, err := score(cpu, est)
		if err != nil {
			t.Fatal(err)
		}
		lost := 0
		for n := 1; ; n++ {
			gpu, pair := outlived, outlivedPair
			outlived, outlivedPair = nil, nil
			if gpu == nil {
				t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(n))
				gpu = vulkantest.Backend(t)
			}
			if pair == nil {
				pair = load(gpu)
			}
			got, err := score(pair, est)
			if err != nil {
				if !errors.Is(err, vulkan.ErrDeviceLost) {
					t.Fatalf("%s, lost at batch %d: %v, want the device's loss", est, n, err)
				}
				// No scores come with a device's loss: Score keeps the
				// items answered before a failure only with a fatal
				// SourceError (a server's), and a model in this process
				// returns no values with its backend's error, whose reads
				// are a lost device's zeros.
				if len(got) != 0 {
					why := rewardsDiffer(got, want)
					if why == "" {
						why = "the CPU's rewards"
					}
					t.Errorf("%s, lost at batch %d: %d scores handed back with the device's loss (%s), want none: Score keeps the items before a failure only for a server's (a fatal SourceError), and a lost device reads zeros", est, n, len(got), why)
				}
				lost++
				gpu.Close() // a lost device computes nothing more: free its memory now
				continue
			}
			// The device outlived scoring: every batch after this one
			// comes after the last read.
			if why := rewardsDiffer(got, want); why != "" || len(got) != len(want) {
				t.Errorf("%s, lost at batch %d, no error: %d scores: %s", est, n, len(got), why)
			}
			if lost == 0 {
				t.Fatalf("%s: scoring took no batch at all", est)
			}
			outlived, outlivedPair = gpu, pair
			break
		}
	}
}
