package model

import (
	"fmt"
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
