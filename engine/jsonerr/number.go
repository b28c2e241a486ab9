package jsonerr

// NumberLen is the length of the JSON number that b begins with, 0 where
// it begins with none: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// the longest such prefix (a fraction or exponent with no digit after it
// is not part of the number). b is one number exactly when NumberLen(b) is
// len(b) and not 0. The one reading of JSON's number grammar for the
// session store's record scanner (whole values) and the server's
// rewriting of Python's JSON (numbers inside a body).
func NumberLen(b []byte) int {
	digits := func(i int) int {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(i)
	default:
		return 0
	}
	if i+1 < len(b) && b[i] == '.' && '0' <= b[i+1] && b[i+1] <= '9' {
		i = digits(i + 1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && '0' <= b[j] && b[j] <= '9' {
			i = digits(j)
		}
	}
	return i
}
