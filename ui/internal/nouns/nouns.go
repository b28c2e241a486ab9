// Package nouns holds the wording of counts the workbench's packages
// share, so that a count reads the same on every screen: "1 run", "3 runs".
package nouns

import "strconv"

// Count is "1 what" or "N whats", for a noun whose plural adds an s.
func Count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
