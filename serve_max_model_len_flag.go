package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// tokenCountFlag is a count flag read as vLLM reads its --max-model-len
// (human_readable_int in vllm/engine/arg_utils.py), so that a command line
// written for vLLM means the same here: a plain integer (as Python's int()
// reads it, so 32_768 too), or a number with one suffix, lowercase decimal
// (k 1000, m 10^6, g 10^9, t 10^12) where a fraction is allowed, or
// uppercase binary (K 1024, M 2^20, G 2^30, T 2^40) whole only. It refused 8k as not an integer.
// vLLM's -1 and auto (the longest that fits its KV cache's memory) are not
// ours, whose default is the model's positions: -1 is below the flag's
// least, auto is refused saying to leave the flag out.
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

// parseTokenCount is vLLM's human_readable_int. A decimal suffix's value is
// its float product truncated, as vLLM's int(float(number) * mult) is (so
// 1.001k is 1000 there and here).
func parseTokenCount(s string) (int, error) {
	s = strings.TrimSpace(s)
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
				return 0, fmt.Errorf("%s: want at least 1", s)
			}
			return 0, fmt.Errorf("%s is too large a count", s)
		}
		if strings.EqualFold(s, "auto") {
			return 0, fmt.Errorf("vLLM's auto (the longest its KV cache's memory holds) has no match here: leave the flag out for the model's positions, or give a count")
		}
		return 0, fmt.Errorf("not a count: give a whole number, or a number with a suffix: %s", units)
	}
	number, suffix := m[1], m[2]
	shift := strings.Index("kmgt", strings.ToLower(suffix)) + 1
	if strings.ToLower(suffix) == suffix {
		f, err := strconv.ParseFloat(number, 64)
		v := f * math.Pow(1000, float64(shift))
		if err != nil || v >= math.MaxInt64 {
			return 0, fmt.Errorf("%s is too large a count", s)
		}
		return int(v), nil
	}
	if strings.Contains(number, ".") {
		return 0, fmt.Errorf("a fraction with the binary suffix %s: give a whole number, or the decimal %s (%s%s)", suffix, strings.ToLower(suffix), number, strings.ToLower(suffix))
	}
	n, err := strconv.Atoi(number)
	if err != nil || n > math.MaxInt64>>(10*shift) {
		return 0, fmt.Errorf("%s is too large a count", s)
	}
	return n << (10 * shift), nil
}
