package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// tokenCountFlag is a count flag read as vLLM reads its --max-model-len
// (human_readable_int_or_auto in vllm/utils/argparse_utils.py), so that a
// command line written for vLLM means the same here: a plain integer (as
// Python's int() reads it, so 32_768 too), or a number with one suffix,
// lowercase decimal (k 1000, m 10^6, g 10^9, t 10^12) where a fraction is
// allowed, or uppercase binary (K 1024, M 2^20, G 2^30, T 2^40) whole
// only; -1 or auto (any case) is vLLM's auto-fit, autoModelLen: the
// model's positions, lowered to the most whose memory fits (vLLM's
// _auto_fit_max_model_len lowers it so to what its KV cache holds).
// Digits of other scripts (٨١٩٢, full-width ８１９２) are read as their
// values, as vLLM's \d, int() and float() read every Unicode decimal
// digit: refused, a command line vLLM takes would fail here, and the count
// read is said in the start line anyway.
type tokenCountFlag int

func (f *tokenCountFlag) String() string {
	if f == nil {
		return "0"
	}
	return strconv.Itoa(int(*f))
}

func (f *tokenCountFlag) Set(s string) error {
	n, err := parseTokenCount(s)
	if err != nil {
		return err
	}
	*f = tokenCountFlag(n)
	return nil
}

var tokenCountSuffixed = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([kKmMgGtT])$`)
var tokenCountPlain = regexp.MustCompile(`^[+-]?[0-9]+(?:_[0-9]+)*$`)

// tokenCountLeast is what --max-model-len below 1, other than -1, is told.
// vLLM's parser passes 0 and other negatives on (its max_model_len check
// refuses only a value past the model's); none is a length a request
// could fit, so they are refused here.
const tokenCountLeast = "want at least 1, or -1 or auto (vLLM's auto-fit: the model's positions, or the most of them that fit in memory)"

// autoModelLen is --max-model-len -1 or auto: the model's positions, or
// the most of them whose forwards fit in memory (autoFitModelLen).
const autoModelLen = -1

// parseTokenCount is vLLM's human_readable_int_or_auto. A decimal suffix's
// value is its float product truncated, as vLLM's int(float(number) *
// mult) is (so 1.001k is 1000 there and here). Every value that reads as
// -1 is autoModelLen, as vLLM's original_max_model_len == -1 is.
func parseTokenCount(s string) (int, error) {
	s = asciiDigits(strings.TrimSpace(s))
	if strings.EqualFold(s, "auto") {
		return autoModelLen, nil
	}
	const units = "k, m, g, t (1000, 10^6, 10^9, 10^12; 25.6k is 25600) or K, M, G, T (1024, 2^20, 2^30, 2^40; 8K is 8192)"
	m := tokenCountSuffixed.FindStringSubmatch(s)
	if m == nil {
		// Python's int(), vLLM's for a plain number, takes a sign and
		// single underscores between digits (32_768); Atoi takes neither
		// underscore, and its range error is no "not a count".
		if tokenCountPlain.MatchString(s) {
			n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
			switch {
			case err == nil:
				return n, nil
			case strings.HasPrefix(s, "-"): // past int's range, far below the least
				return 0, fmt.Errorf("%s: %s", s, tokenCountLeast)
			}
			return 0, fmt.Errorf("%s is too large a count", s)
		}
		return 0, fmt.Errorf("not a count: give a whole number, or a number with a suffix: %s", units)
	}
	number, suffix := m[1], m[2]
	shift := strings.Index("kmgt", strings.ToLower(suffix)) + 1
	if strings.ToLower(suffix) == suffix {
		f, err := strconv.ParseFloat(number, 64)
		v := f * math.Pow(1000, float64(shift))
		if err != nil || v >= math.MaxInt { // int's, 32 bits on 386 and arm
			return 0, fmt.Errorf("%s is too large a count", s)
		}
		return int(v), nil
	}
	if strings.Contains(number, ".") {
		return 0, fmt.Errorf("a fraction with the binary suffix %s: give a whole number, or the decimal %s (%s%s)", suffix, strings.ToLower(suffix), number, strings.ToLower(suffix))
	}
	n, err := strconv.Atoi(number)
	if err != nil || n > math.MaxInt>>(10*shift) {
		return 0, fmt.Errorf("%s is too large a count", s)
	}
	return n << (10 * shift), nil
}

// asciiDigits is s with each Unicode decimal digit (category Nd: ٣, ३,
// ８) written as the ASCII digit of its value, as Python's int() and
// float() read them.
func asciiDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 || !unicode.IsDigit(r) {
			return r
		}
		return '0' + rune(digitValue(r))
	}, s)
}

// digitValue is the value of the decimal digit r (unicode.IsDigit). Unicode
// encodes every decimal digit in runs of ten, 0 to 9 (its stability
// policy for Nd), and unicode.Nd's ranges are such runs, one or more back
// to back (TestDigitRuns holds it for the Unicode Go has), so r's value is
// its place in its range, modulo 10.
func digitValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return int(r-lo) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); r >= lo && r <= hi {
			return int(r-lo) % 10
		}
	}
	return 0
}
