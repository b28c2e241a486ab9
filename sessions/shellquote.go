package sessions

import "strings"

// ShellQuote quotes p for a POSIX shell when it holds anything but plain
// path characters, so that a command said to the user (rlt run --resume
// DIR, rlt score --run DIR) can be pasted as it is, whatever the folder is
// called.
func ShellQuote(p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
