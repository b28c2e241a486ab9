package sessions

import (
	"runtime"
	"strings"
)

// ShellQuote writes path p as one word of a command said to the user (rlt
// run --resume DIR, rlt score --run DIR, rlt open DIR), so that the command
// can be pasted as it is, whatever the folder is called. Every command the
// workbench prints with a path in it goes through here.
//
// A relative path starting with '-' is said as ./-name: bare, the command
// would read it as a flag.
//
// The quoting is for the shell of the OS the binary runs on: a POSIX shell's
// single quotes (a quote in the path as '\”), and on Windows double quotes,
// which both cmd.exe and PowerShell read as one word and which no Windows
// path holds. There a folder with '%' (cmd.exe) or '$' (PowerShell) in its
// name is still expanded by the shell; such names are rare and no one
// quoting serves both shells.
func ShellQuote(p string) string {
	return shellQuoteFor(runtime.GOOS, p)
}

// ShellWord is ShellQuote for a word that is not a path, such as a flag's
// value (--seed -1) or a flag itself: quoted the same, never made ./-word.
func ShellWord(w string) string {
	return shellWordFor(runtime.GOOS, w)
}

// shellQuoteFor is ShellQuote for the shell of goos, so that tests see
// both ways on any OS.
func shellQuoteFor(goos, p string) string {
	if strings.HasPrefix(p, "-") {
		p = "./" + p
	}
	return shellWordFor(goos, p)
}

func shellWordFor(goos, p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' ||
			goos == "windows" && r == '\\' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return p
	}
	if goos == "windows" {
		return `"` + p + `"`
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
