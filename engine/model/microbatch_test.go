package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestMicroBatches(t *testing.T) {
	cases := []struct {
		name              string
		lens              []int
		maxRows, maxToken int
		want              string
		err               string
	}{
		{"no limits", []int{5, 9, 3}, 0, 0, "[[0 3]]", ""},
		{"rows only", []int{5, 9, 3, 4, 4}, 2, 0, "[[0 2] [2 4] [4 5]]", ""},
		{"tokens: padded to the longest", []int{5, 9, 3, 4}, 0, 18, "[[0 2] [2 4]]", ""},
		{"a long row starts its own batch", []int{2, 2, 2, 10, 2}, 0, 10, "[[0 3] [3 4] [4 5]]", ""},
		{"exactly the budget", []int{4, 4, 4}, 0, 12, "[[0 3]]", ""},
		{"both limits", []int{1, 1, 1, 1, 1}, 2, 100, "[[0 2] [2 4] [4 5]]", ""},
		{"empty", nil, 4, 4, "[]", ""},
		{"a row over the budget", []int{3, 40, 3}, 0, 32, "", "micro_batch_tokens = 32 is smaller than sequence 1 of 40 tokens: set it to at least 40"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MicroBatches(c.lens, c.maxRows, c.maxToken, "micro_batch_tokens")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(got); s != c.want && !(c.want == "[]" && len(got) == 0) {
				t.Fatalf("got %s, want %s", s, c.want)
			}
		})
	}
}

// TestLengthGroups: rows go into forwards longest first, in groups of
// about one length that cost the fewest positions (rows × the longest,
// plus a forward's fixed cost each), within the row and token limits;
// each group's indexes in order.
func TestLengthGroups(t *testing.T) {
	cases := []struct {
		name              string
		lens              []int
		maxRows, maxToken int
		forward           int
		want              string
		err               string
	}{
		{"empty", nil, 0, 0, 64, "[]", ""},
		{"one", []int{7}, 0, 0, 64, "[[0]]", ""},
		{"close lengths stay together", []int{12, 9, 11, 10}, 0, 0, 64, "[[0 1 2 3]]", ""},
		{"a long row alone", []int{4, 60, 4, 4, 4, 4, 4, 4}, 0, 0, 16, "[[1] [0 2 3 4 5 6 7]]", ""},
		{"no fixed cost: every length apart", []int{3, 5, 3, 4}, 0, 0, 0, "[[1] [3] [0 2]]", ""},
		{"two lengths, interleaved", []int{100, 20, 100, 20, 20, 100}, 0, 0, 64, "[[0 2 5] [1 3 4]]", ""},
		{"the token budget splits one length", []int{10, 10, 10, 10}, 0, 20, 64, "[[0 1] [2 3]]", ""},
		{"the row limit", []int{5, 5, 5, 5, 5}, 2, 0, 64, "[[0] [1 2] [3 4]]", ""},
		{"a row over the budget", []int{3, 40, 3}, 0, 32, 64, "", "micro_batch_tokens = 32 is smaller than sequence 1 of 40 tokens: set it to at least 40"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := LengthGroups(c.lens, c.maxRows, c.maxToken, c.forward, "micro_batch_tokens")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := fmt.Sprint(got); s != c.want && !(c.want == "[]" && len(got) == 0) {
				t.Fatalf("got %s, want %s", s, c.want)
			}
		})
	}
}

// TestLengthGroupsCostNoMoreThanMicroBatches: on GRPO-like lengths the
// groups never cost more positions (with a forward's fixed cost) than
// MicroBatches' consecutive micro-batches under the same limits, hold
// every row once and keep within the limits.
func TestLengthGroupsCostNoMoreThanMicroBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + rng.IntN(70)
		lens := make([]int, n)
		for i := range lens {
			lens[i] = 20 + rng.IntN(150)
		}
		maxRows, maxTokens, forward := rng.IntN(9), []int{0, 170, 1024, 8192}[rng.IntN(4)], []int{0, 64}[rng.IntN(2)]
		parts, err := MicroBatches(lens, maxRows, maxTokens, "x")
		if err != nil {
			t.Fatal(err)
		}
		groups, err := LengthGroups(lens, maxRows, maxTokens, forward, "x")
		if err != nil {
			t.Fatal(err)
		}
		cost := func(rows []int) int {
			long := 0
			for _, i := range rows {
				long = max(long, lens[i])
			}
			return forward + len(rows)*long
		}
		before, after := 0, 0
		for _, p := range parts {
			var rows []int
			for i := p[0]; i < p[1]; i++ {
				rows = append(rows, i)
			}
			before += cost(rows)
		}
		seen := make([]bool, n)
		for _, g := range groups {
			after += cost(g)
			if (maxRows > 0 && len(g) > maxRows) || (maxTokens > 0 && cost(g)-forward > maxTokens) || !slices.IsSorted(g) {
				t.Fatalf("trial %d: group %v of lengths %v past %d rows, %d tokens, or out of order", trial, g, lens, maxRows, maxTokens)
			}
			for _, i := range g {
				if seen[i] {
					t.Fatalf("trial %d: row %d twice in %v", trial, i, groups)
				}
				seen[i] = true
			}
		}
		if slices.Contains(seen, false) {
			t.Fatalf("trial %d: a row missing from %v", trial, groups)
		}
		if after > before {
			t.Errorf("trial %d: groups cost %d, consecutive micro-batches %d (lengths %v, %d rows, %d tokens, forward %d)", trial, after, before, lens, maxRows, maxTokens, forward)
		}
	}
}
