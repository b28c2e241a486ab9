package sessions

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Reading a trace as the store keeps it (the summary) counts its per-token
// arrays without making them: a trace read from a run folder costs the
// allocations of one whose only array is d (the one the store keeps),
// however many tokens it has and however they are written (escaped
// tokens, arrays of several base64 pieces).
func TestSummaryCountsArraysWithoutAllocating(t *testing.T) {
	scored := func(n int, token func(k int) string) *record.Scored {
		sc := &record.Scored{Ended: true}
		for k := 0; k < n; k++ {
			sc.ExplanationIDs = append(sc.ExplanationIDs, int32(k*7919-1000))
			sc.ExplanationTokens = append(sc.ExplanationTokens, token(k))
			sc.TeacherLP = append(sc.TeacherLP, -float32(k)/3)
			sc.StudentLP = append(sc.StudentLP, -float32(k)/5)
			sc.D = append(sc.D, float32(k)/15)
		}
		for k := 0; k < n/4; k++ {
			sc.SolutionIDs = append(sc.SolutionIDs, math.MaxInt32-int32(k))
			sc.SolutionTokens = append(sc.SolutionTokens, token(k+1))
			sc.SolutionLP = append(sc.SolutionLP, -float32(k))
		}
		sc.Terms = record.DefaultRewardConfig().Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
		return sc
	}
	plain := func(k int) string { return "Ġt" + strconv.Itoa(k) }
	cases := []struct {
		name string
		sc   *record.Scored
	}{
		{"plain tokens", scored(300, plain)},
		{"escaped tokens", scored(300, func(k int) string { return []string{"\n", `"q"`, `\`, "\t", "é", "\x01"}[k%6] })},
		{"several base64 pieces", scored(1000, plain)}, // 4,000 bytes an array
		{"one token", scored(1, plain)},
	}
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	for i, c := range cases {
		full := fakeTrace(0, i, 0)
		full.Score = c.sc
		onlyD := fakeTrace(0, i, 1) // the same but for the arrays the store drops
		onlyD.Score = &record.Scored{Ended: c.sc.Ended, Terms: c.sc.Terms, Tokens: record.Tokens{D: c.sc.D}}
		r.Emit(full)
		r.Emit(onlyD)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(traceFileName(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != 2*len(cases) {
		t.Fatalf("%d lines written, want %d", len(lines), 2*len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line, dLine := lines[2*i], lines[2*i+1]
			sum, err := decodeTraceStrict(line, keepListing)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := parseTraceFast(line, keepListing); !ok {
				t.Fatalf("the fast parser refused the writer's line:\n%.300s", line)
			}
			if sum.Lengths != c.sc.Tokens.Lengths() || !sameF32(sum.D, c.sc.D) || sum.ExplanationTokens != nil || sum.TeacherLP != nil {
				t.Errorf("summary: lengths %+v, want %+v; %d d_k; arrays kept %v %v", sum.Lengths, c.sc.Tokens.Lengths(), len(sum.D), sum.ExplanationTokens != nil, sum.TeacherLP != nil)
			}
			got, err := decodeTraceStrict(line, keepWhole) // the full decode shares the scanning
			if err != nil || !sameScored(got.Scored, *c.sc) {
				t.Errorf("full decode (%v) differs from what was written", err)
			}
			allocs := func(l []byte) float64 {
				return testing.AllocsPerRun(50, func() {
					if _, err := decodeTraceStrict(l, keepListing); err != nil {
						t.Fatal(err)
					}
				})
			}
			a, d := allocs(line), allocs(dLine)
			t.Logf("%d tokens: %.0f allocations a summarized trace (%.0f with d only)", len(c.sc.D), a, d)
			if a != d {
				t.Errorf("summary of %d tokens: %.0f allocations, %.0f for the same trace with d only: counting allocates", len(c.sc.D), a, d)
			}
		})
	}
}

func sameScored(a, b record.Scored) bool {
	return fmt.Sprintf("%v", a) == fmt.Sprintf("%v", b)
}

// decodeF32s, which reads the float arrays in pieces (the summary counts
// them without allocating), reads what base64 read whole reads and
// refuses what it refuses, across the pieces' edges.
func TestDecodeF32sMatchesBase64(t *testing.T) {
	enc := func(n int) string {
		a := make([]float32, n)
		for i := range a {
			a[i] = float32(i) - 0.5
		}
		b := appendF32s(nil, a)
		return string(b[1 : len(b)-1])
	}
	long := enc(400) // three pieces
	for _, c := range []struct {
		name, text string
	}{
		{"empty", ""},
		{"one float", enc(1)},
		{"one piece less a float", enc(191)},
		{"one piece", enc(192)},
		{"a piece and a float", enc(193)},
		{"three pieces", long},
		{"padding in the first piece", enc(1)[:6] + "==" + long[8:]},
		{"a bad character in the second piece", long[:1500] + "!" + long[1501:]},
		{"cut short", long[:len(long)-1]},
		{"bytes not whole floats", base64.StdEncoding.EncodeToString([]byte{1, 2, 3, 4, 5})},
		{"a newline in the first piece", long[:10] + "\n" + long[10:]},
		{"a newline in the last piece", long[:1030] + "\r\n" + long[1030:]},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := base64.StdEncoding.AppendDecode(nil, []byte(c.text))
			wantOK := err == nil && len(raw)%4 == 0
			got, n, ok := decodeF32s([]byte(c.text), true)
			_, n2, ok2 := decodeF32s([]byte(c.text), false)
			if ok != ok2 || n != n2 || ok && n != len(got) {
				t.Fatalf("keep %v %d, count %v %d", ok, n, ok2, n2)
			}
			if ok && (!wantOK || n != len(raw)/4 || string(appendF32s(nil, got)) != strconv.Quote(base64.StdEncoding.EncodeToString(raw))) {
				t.Errorf("read %d floats where base64 reads %v (%v)", n, len(raw)/4, err)
			}
			if !ok && wantOK && !bytes.ContainsAny([]byte(c.text), "\r\n") {
				t.Errorf("refused what base64 reads (%d bytes)", len(raw))
			}
			var a f32s // UnmarshalJSON takes decodeF32s's refusals to base64 whole
			uerr := a.UnmarshalJSON([]byte(`"` + c.text + `"`))
			if (uerr == nil) != wantOK || uerr == nil && len(a) != len(raw)/4 {
				t.Errorf("UnmarshalJSON: %v, %d floats; base64: %v, %d bytes", uerr, len(a), err, len(raw))
			}
		})
	}
}

// atoi32 reads the integers strconv reads as int32s, JSON's way (no
// leading zeros, no plus), and nothing else.
func TestAtoi32MatchesParseInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-7", "2147483647", "-2147483648", "2147483648", "-2147483649",
		"99999999999", "99999999999999999999999", "01", "+1", "1.5", "1e3", "-", "", "1_000", " 1"} {
		v, err := strconv.ParseInt(s, 10, 32)
		want := err == nil && isJSONNumber([]byte(s))
		got, ok := atoi32([]byte(s))
		if ok != want || ok && int64(got) != v {
			t.Errorf("atoi32(%q) = %d, %v; strconv %d, %v", s, got, ok, v, err)
		}
	}
}
