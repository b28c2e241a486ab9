package chatml

import (
	"strings"
	"testing"
)

func TestWriteTurn(t *testing.T) {
	for _, c := range []struct {
		role, content string
		end           bool
		want          string
	}{
		{"system", "Solve.", true, "<|im_start|>system\nSolve.<|im_end|>\n"},
		{"user", "", true, "<|im_start|>user\n<|im_end|>\n"},
		{"user", "a\nb", true, "<|im_start|>user\na\nb<|im_end|>\n"},
		{"assistant", "<|begin_of_thought|>", false, "<|im_start|>assistant\n<|begin_of_thought|>"},
		{"assistant", "", false, "<|im_start|>assistant\n"}, // the generation prompt
	} {
		var b strings.Builder
		b.WriteString("before|")
		WriteTurn(&b, c.role, c.content, c.end)
		if got := b.String(); got != "before|"+c.want {
			t.Errorf("WriteTurn(%q, %q, %v) wrote %q, want %q", c.role, c.content, c.end, got, "before|"+c.want)
		}
	}
}
