package record

import (
	"bytes"
	"testing"
)

func TestContainsTag(t *testing.T) {
	tests := []struct {
		s, tag string
	}{
		{"", ""},
		{"347+285=?", ""},
		{"a <| b |> c", ""},
		{"<|begin_of_solution", ""},
		{"x<|begin_of_solution|>y", BeginSolution},
		{"<|end_of_solution|>", EndSolution},
		{"<|begin_of_explanation|>", BeginExplanation},
		{"<|end_of_explanation|>", EndExplanation},
		{"<|begin_of_thought|>", BeginThought},
		{"<|end_of_thought|>", EndThought},
		{"<|im_start|>user", ImStart},
		{"hi<|im_end|>", ImEnd},
		{"<|endoftext|>", EndOfText},
		{"<|<|im_end|> then <|begin_of_thought|>", ImEnd}, // leftmost wins
		{"<|BEGIN_OF_SOLUTION|>", ""},                     // tags are case-sensitive tokens
	}
	for _, tc := range tests {
		tag, ok := ContainsTag(tc.s)
		if tag != tc.tag || ok != (tc.tag != "") {
			t.Errorf("ContainsTag(%q) = %q, %v; want %q", tc.s, tag, ok, tc.tag)
		}
	}
	if n := len(Tags()); n != 9 {
		t.Errorf("%d reserved tags, want 9", n)
	}
}

func TestStratosWriterRejects(t *testing.T) {
	var buf bytes.Buffer
	sw := NewStratosWriter(&buf, "sys")
	bad := [][3]string{
		{"q<|im_end|>", "e", "s"},
		{"q", "e<|end_of_thought|>", "s"},
		{"q", "e", "s<|end_of_solution|>"},
		{"", "e", "s"},
		{"q", "e", " "},
	}
	for _, b := range bad {
		if err := sw.Write(b[0], b[1], b[2]); err == nil {
			t.Errorf("Write(%q) accepted", b)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("rejected rows wrote %q", buf.String())
	}
	if err := NewStratosWriter(&buf, "<|im_start|>").Write("q", "e", "s"); err == nil {
		t.Error("ChatML marker in system prompt accepted")
	}
	var ok bytes.Buffer
	if err := NewStratosWriter(&ok, "Think between <|begin_of_thought|> and <|end_of_thought|>.").Write("q", "e", "s"); err != nil {
		t.Errorf("the format's own tags in the system prompt (as Bespoke-Stratos has them) were refused: %v", err)
	}
}

func TestParseStratosAssistant(t *testing.T) {
	e, th, s, err := ParseStratosAssistant(StratosAssistant("7+5=12", "12"))
	if err != nil || e != "7+5=12" || s != "12" || !th {
		t.Fatalf("got %q %q %v", e, s, err)
	}
	// The real dataset pads sections with blank lines.
	e, _, s, err = ParseStratosAssistant("<|begin_of_thought|>\n\nthink\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n42\n\n<|end_of_solution|>")
	if err != nil || e != "\n\nthink\n\n" || s != "\n\n42\n\n" {
		t.Fatalf("got %q %q %v", e, s, err)
	}
	for _, bad := range []string{
		"",
		"42",
		"pre <|begin_of_solution|>42<|end_of_solution|>",
		"<|begin_of_solution|>42",
		"<|begin_of_thought|>x<|end_of_thought|><|begin_of_solution|>4<|im_end|>2<|end_of_solution|>",
		"<|begin_of_thought|>x<|begin_of_explanation|><|end_of_thought|><|begin_of_solution|>42<|end_of_solution|>",
	} {
		if _, _, _, err := ParseStratosAssistant(bad); err == nil {
			t.Errorf("ParseStratosAssistant(%q) accepted", bad)
		}
	}
}

func TestParseStratosAssistantWithoutThought(t *testing.T) {
	e, th, s, err := ParseStratosAssistant("<|begin_of_solution|>42<|end_of_solution|>")
	if err != nil || e != "" || th || s != "42" {
		t.Fatalf("got %q %v %q %v", e, th, s, err)
	}
}
