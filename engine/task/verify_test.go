package task

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// want is the part of a Verdict a table row pins.
type want struct {
	correct, wrong, missing, filler int
	missingSteps                    []int
	inOrder, leaked                 bool
	leaks                           int
	stated                          string
	statedOK                        bool
	wrongSteps                      []int // Step of each wrong step segment, in text order
}

func checkVerdict(t *testing.T, name string, v Verdict, w want) {
	t.Helper()
	if !v.Valid {
		t.Fatalf("%s: verdict invalid", name)
	}
	var wrongSteps []int
	for _, s := range v.Segments {
		if s.Kind == StepSegment && !s.Correct {
			wrongSteps = append(wrongSteps, s.Step)
		}
	}
	got := want{v.Correct, v.Wrong, v.Missing, v.Filler, v.MissingSteps, v.InOrder, v.AnswerFirst, v.Leaks, v.Stated, v.StatedCorrect, wrongSteps}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got  %+v\n want %+v\n (%v)", name, got, w, v)
	}
}

func TestVerifyAdditionHandWritten(t *testing.T) {
	const q = "347+285=?"
	tests := []struct {
		name, expl string
		w          want
	}{
		{"clean", "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 0, nil, true, false, 0, "632", true, nil}},
		{"clean spaced newlines", "7 + 5 = 12 w2 c1\n4+8+1=13 w3 c1\n3+2+1=6 w6 c0\nans 632\n",
			want{3, 0, 0, 0, nil, true, false, 0, "632", true, nil}},
		{"swapped operands", "5+7=12 w2 c1; 8+4+1=13 w3 c1; 2+3+1=6 w6 c0; ans 632",
			want{3, 0, 0, 0, nil, true, false, 0, "632", true, nil}},
		{"wrong carry out", "7+5=12 w2 c0; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{2, 1, 0, 0, nil, true, false, 0, "632", true, []int{0}}},
		{"carry in forgotten", "7+5=12 w2 c1; 4+8=12 w2 c1; 3+2+1=6 w6 c0; ans 622",
			want{2, 1, 0, 0, nil, true, false, 0, "622", false, []int{1}}},
		{"wrong written digit", "7+5=12 w2 c1; 4+8+1=13 w4 c1; 3+2+1=6 w6 c0; ans 642",
			want{2, 1, 0, 0, nil, true, false, 0, "642", false, []int{1}}},
		{"wrong sum", "7+5=12 w2 c1; 4+8+1=14 w4 c1; 3+2+1=6 w6 c0; ans 642",
			want{2, 1, 0, 0, nil, true, false, 0, "642", false, []int{1}}},
		{"wrong operand digit", "7+5=12 w2 c1; 4+9+1=14 w4 c1; 3+2+1=6 w6 c0; ans 642",
			want{2, 1, 0, 0, nil, true, false, 0, "642", false, []int{1}}},
		{"missing column", "7+5=12 w2 c1; 3+2+1=6 w6 c0; ans 632",
			want{2, 0, 1, 0, []int{1}, true, false, 0, "632", true, nil}},
		{"missing two, no answer", "4+8+1=13 w3 c1",
			want{1, 0, 2, 0, []int{0, 2}, true, false, 0, "", false, nil}},
		{"terse steps", "7+5=12; 4+8+1=13; 3+2+1=6; ans 632",
			want{3, 0, 0, 0, nil, true, false, 0, "632", true, nil}},
		{"leaked ans prefix", "ans 632; 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 0, nil, true, true, 1, "632", true, nil}},
		{"leaked prose", "the answer is 632. 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0",
			want{3, 0, 0, 0, nil, true, true, 1, "", false, nil}},
		{"leaked whole sum", "347+285=632; 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 1, nil, true, true, 1, "632", true, nil}},
		{"leaked glued to a step", "the answer is 632 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0",
			want{2, 0, 1, 1, []int{0}, true, true, 1, "", false, nil}},
		{"leaked mid-derivation", "7+5=12 w2 c1; so 632; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 0, nil, true, true, 1, "632", true, nil}},
		{"wrong answer first is no leak", "ans 700; 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 0, nil, true, false, 0, "632", true, nil}},
		{"answer only", "632",
			want{0, 0, 3, 0, []int{0, 1, 2}, true, true, 1, "632", true, nil}},
		{"empty", "",
			want{0, 0, 3, 0, []int{0, 1, 2}, true, false, 0, "", false, nil}},
		{"most significant first", "3+2+1=6 w6 c0; 4+8+1=13 w3 c1; 7+5=12 w2 c1; ans 632",
			want{3, 0, 0, 0, nil, false, false, 0, "632", true, nil}},
		{"late carries", "7+5=12 w2; 4+8+1=13 w3; 3+2+1=6 w6; c1 c1 c0; ans 632",
			want{3, 0, 0, 1, nil, true, false, 0, "632", true, nil}},
		{"padded restating operands", "top 347; bot 285; 347+285; 7+5=12 w2 c1; ok; 4+8+1=13 w3 c1; d3 d2; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 5, nil, true, false, 0, "632", true, nil}},
		{"duplicate step", "7+5=12 w2 c1; 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 0, 0, 1, nil, true, false, 0, "632", true, nil}},
		{"corrected step", "7+5=12 w2 c0; 7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632",
			want{3, 1, 0, 0, nil, true, false, 0, "632", true, []int{0}}},
		{"extra stray step", "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; 9+9=18 w8 c1; ans 632",
			want{3, 1, 0, 0, nil, true, false, 0, "632", true, []int{-1}}},
	}
	add := DefaultAddition()
	for _, tc := range tests {
		checkVerdict(t, tc.name, add.VerifyExplanation(q, tc.expl), tc.w)
	}
	if v := add.VerifyExplanation(q, tests[0].expl); !v.Clean() || !v.Complete() {
		t.Errorf("clean explanation not Clean: %v", v)
	}
	if v := add.VerifyExplanation("3x+5=20, x=?", "ans 5"); v.Valid {
		t.Error("addition verified a linear question")
	}
}

func TestVerifyAdditionFinalCarryAndShortOperand(t *testing.T) {
	add := DefaultAddition()
	ex := Example{Question: "95+17=?"}
	if got := addClean(ex, nil); got != "5+7=12 w2 c1; 9+1+1=11 w1 c1; ans 112" {
		t.Fatalf("clean(95+17) = %q", got)
	}
	if got := addClean(Example{Question: "1234+56=?"}, nil); got != "4+6=10 w0 c1; 3+5+1=9 w9 c0; 2+0=2 w2 c0; 1+0=1 w1 c0; ans 1290" {
		t.Fatalf("clean(1234+56) = %q", got)
	}
	v := add.VerifyExplanation("1234+56=?", "4+6=10 w0 c1; 3+5+1=9 w9 c0; 2+0=2 w2 c0; 1+0=1 w1 c0; ans 1290")
	if !v.Clean() {
		t.Fatalf("verdict %v", v)
	}
	// Repeated digit pairs: the matcher must not mark a correct step wrong
	// because another column has the same operands.
	v = add.VerifyExplanation("323+525=?", "3+5=8 w8 c0; 2+2=4 w4 c0; 3+5=8 w8 c0; ans 848")
	if !v.Clean() {
		t.Fatalf("repeated digits: %v", v)
	}
	v = add.VerifyExplanation("393+595=?", "3+5=8 w8 c0; 9+9=18 w8 c1; 3+5+1=9 w9 c0; ans 988")
	if !v.Clean() {
		t.Fatalf("repeated digits with carry: %v", v)
	}
	v = add.VerifyExplanation("393+595=?", "3+5+1=9 w9 c0; 9+9=18 w8 c1; 3+5=8 w8 c0; ans 988")
	if !v.Complete() || v.InOrder {
		t.Fatalf("msb-first with repeated digits: %v", v)
	}
}

func TestVerifyLinearHandWritten(t *testing.T) {
	lin := DefaultLinear()
	tests := []struct {
		name, q, expl string
		w             want
	}{
		{"clean", "3x+5=20, x=?", "20-5=15; 15/3=5; ans 5",
			want{2, 0, 0, 0, nil, true, false, 0, "5", true, nil}},
		{"wrong subtraction propagates", "3x+5=20, x=?", "20-5=14; 14/3=5; ans 5",
			want{0, 2, 0, 0, nil, true, false, 0, "5", true, []int{0, 1}}},
		{"wrong division", "3x+5=20, x=?", "20-5=15; 15/3=6; ans 6",
			want{1, 1, 0, 0, nil, true, false, 0, "6", false, []int{1}}},
		{"wrong operation", "3x+5=20, x=?", "20+5=25; 25/3=8; ans 8",
			want{0, 2, 0, 0, nil, true, false, 0, "8", false, []int{0, 1}}},
		{"missing step", "3x+5=20, x=?", "15/3=5; ans 5",
			want{1, 0, 1, 0, []int{0}, true, false, 0, "5", true, nil}},
		{"leaked x=", "3x+5=20, x=?", "x=5; 20-5=15; 15/3=5; ans 5",
			want{2, 0, 0, 0, nil, true, true, 1, "5", true, nil}},
		{"leaked prose", "3x+5=20, x=?", "the answer is 5. 20-5=15; 15/3=5; ans 5",
			want{2, 0, 0, 0, nil, true, true, 1, "5", true, nil}},
		{"restated equation is no leak", "3x+5=20, x=?", "eq 3x+5=20; 20-5=15; 15/3=5; ans 5",
			want{2, 0, 0, 1, nil, true, false, 0, "5", true, nil}},
		{"reordered", "3x+5=20, x=?", "15/3=5; 20-5=15; ans 5",
			want{2, 0, 0, 0, nil, false, false, 0, "5", true, nil}},
		{"minus form, commuted", "3x-4=11, x=?", "4+11=15; 15/3=5; ans 5",
			want{2, 0, 0, 0, nil, true, false, 0, "5", true, nil}},
		{"negative solution", "3x+6=0, x=?", "0-6=-6; -6/3=-2; ans -2",
			want{2, 0, 0, 0, nil, true, false, 0, "-2", true, nil}},
		{"unit coefficient", "x+5=20, x=?", "20-5=15; ans 15",
			want{1, 0, 0, 0, nil, true, false, 0, "15", true, nil}},
		{"addition steps are filler here", "3x+5=20, x=?", "0+5=5 w5 c0; ans 5",
			want{0, 0, 2, 1, []int{0, 1}, true, true, 2, "5", true, nil}}, // no derivation: "=5" and "ans 5" both leak
	}
	for _, tc := range tests {
		checkVerdict(t, tc.name, lin.VerifyExplanation(tc.q, tc.expl), tc.w)
	}
}

// Every style must get the verdict it was designed to earn.
func TestVerifyStyles(t *testing.T) {
	for _, tk := range allTasks() {
		rng := rand.New(rand.NewPCG(11, 12))
		s := NewSampler(tk, Train, 3)
		for range 1000 {
			ex := s.Next()
			for _, st := range tk.Styles() {
				expl := st.Generate(ex, rng)
				v := tk.VerifyExplanation(ex.Question, expl)
				fail := func(why string) {
					t.Helper()
					t.Fatalf("%s %s on %q: %s\n  %q\n  %v", tk.Name(), st.Name, ex.Question, why, expl, v)
				}
				if v.Wrong != 0 {
					fail("wrong steps")
				}
				multi := v.Expected > 1
				switch st.Name {
				case StyleClean:
					if !v.Clean() || !v.StatedCorrect || expl != ex.Reference {
						fail("not clean")
					}
				case StyleReordered:
					if !v.Complete() || v.AnswerFirst || !v.StatedCorrect || (multi && v.InOrder && v.Filler == 0 && expl != ex.Reference) {
						fail("want complete, not leaked, and out of order or with late carries")
					}
				case StylePadded:
					if !v.Complete() || v.AnswerFirst || !v.InOrder || v.Filler == 0 || !v.StatedCorrect {
						fail("want complete, in order, with filler")
					}
				case StyleLeaked:
					if !v.Complete() || !v.AnswerFirst || v.Leaks != 1 || !v.StatedCorrect {
						fail("want complete with one leak")
					}
				case StylePartial:
					if v.AnswerFirst || (multi && v.Missing == 0) || v.Correct+v.Missing != v.Expected {
						fail("want missing steps, no leak")
					}
					if v.Stated != "" && !v.StatedCorrect {
						fail("wrong final answer")
					}
				}
				if tk.CheckAnswer(ex.Question, expl) {
					fail("an explanation passed as an answer")
				}
			}
		}
	}
}

func TestSegmentsOffsets(t *testing.T) {
	expl := "  7+5=12 w2 c1 ;\n ok. ans 632  "
	v := DefaultAddition().VerifyExplanation("347+285=?", expl)
	texts := []string{}
	for _, s := range v.Segments {
		if expl[s.Start:s.End] != s.Text {
			t.Fatalf("segment %+v does not match its offsets", s)
		}
		texts = append(texts, s.Text+"/"+s.Kind.String())
	}
	if got := strings.Join(texts, "|"); got != "7+5=12 w2 c1/step|ok/filler|ans 632/answer" {
		t.Fatalf("segments %s", got)
	}
	if !strings.Contains(v.String(), "1/3 correct") {
		t.Fatalf("String() = %q", v.String())
	}
}
