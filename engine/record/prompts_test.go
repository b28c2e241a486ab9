package record

import (
	"strings"
	"testing"
)

func TestParseTeacherPrompt(t *testing.T) {
	cases := []struct {
		prompt, q, s, err string
	}{
		{"<|im_start|>system\nT<|im_end|>\n<|im_start|>user\nWhat?<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>42<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n", "What?", "42", ""},
		{"<|im_start|>user\nmulti\nline<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>a\nb<|end_of_solution|>", "multi\nline", "a\nb", ""},
		{"plain", "", "", "no \"<|im_start|>user\" turn"},
		{"<|im_start|>user\nq", "", "", "has no <|im_end|>"},
		{"<|im_start|>user\nq<|im_end|>\n", "", "", "no assistant turn"},
		{"<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nno tags", "", "", "no <|begin_of_solution|>"},
	}
	for _, c := range cases {
		q, s, err := ParseTeacherPrompt(c.prompt)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.prompt, err, c.err)
			}
			continue
		}
		if err != nil || q != c.q || s != c.s {
			t.Errorf("%q: %q %q %v", c.prompt, q, s, err)
		}
	}
}
