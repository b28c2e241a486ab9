package jsonerr

import (
	"strconv"
	"strings"
)

// Lines names the lines of an input that one note is of, as every note
// names them: "line 3", or "lines 3, 5, 7", with ", …" after them where
// there are more than first, n in all (a note names the first few).
func Lines(first []int, n int) string {
	at := make([]string, len(first))
	for i, l := range first {
		at[i] = strconv.Itoa(l)
	}
	word, more := "line", ""
	if n > 1 {
		word = "lines"
	}
	if n > len(first) {
		more = ", …"
	}
	return word + " " + strings.Join(at, ", ") + more
}

// Rows is a count of rows as the reports say it: "1 row", "2 rows".
func Rows(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}
