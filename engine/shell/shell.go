// Package shell writes a path or a word as one word of a command said to
// the user, for the shell of the OS the binary runs on. It is the one
// owner of that quoting: the commands sessions and the root say (rlt run
// --resume DIR) and the paths an engine error tells the user to give
// (engine/hf: "give DIR/teacher or DIR/student") are quoted alike.
package shell

import (
	"runtime"
	"strings"
)

// Quote writes path p as one word of a command said to the user (rlt run
// --resume DIR, rlt score --run DIR, rlt open DIR), so that the command
// can be pasted as it is, whatever the folder is called.
//
// A relative path starting with '-' is said as ./-name: bare, the command
// would read it as a flag.
//
// The quoting is for the shell of the OS the binary runs on: a POSIX shell's
// single quotes (a quote in the path closes them, is written \', and opens
// them again), and on Windows double quotes,
// which both cmd.exe and PowerShell read as one word and which no Windows
// path holds. There a folder with '%' (cmd.exe) or '$' (PowerShell) in its
// name is still expanded by the shell; such names are rare and no one
// quoting serves both shells.
func Quote(p string) string {
	return quoteFor(runtime.GOOS, p)
}

// Word is Quote for a word that is not a path, such as a flag's value
// (--seed -1) or a flag itself: quoted the same, never made ./-word.
func Word(w string) string {
	return wordFor(runtime.GOOS, w)
}

// quoteFor is Quote for the shell of goos, so that tests see both ways on
// any OS.
func quoteFor(goos, p string) string {
	if strings.HasPrefix(p, "-") {
		p = "./" + p
	}
	return wordFor(goos, p)
}

func wordFor(goos, p string) string {
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
