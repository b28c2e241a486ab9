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
// would read it as a flag. On Windows one starting with '@' is quoted:
// bare, PowerShell would read it as a variable splatted.
//
// The quoting is for the shell of the OS the binary runs on: a POSIX shell's
// single quotes (a quote in the path closes them, is written \', and opens
// them again), and on Windows double quotes, which both cmd.exe and
// PowerShell read as one word and which no Windows path holds (backslashes
// that end the path doubled, so that the program does not read the last
// one as escaping the closing quote). Within double quotes cmd.exe still
// expands %NAME% and PowerShell $name, ` escapes and ends the string at a
// typographic double quote, and no one quoting stops both shells:
// PowerShell takes single quotes as written, which cmd.exe passes on as
// part of the word, and cmd.exe has no quoting at all that stops its %.
// So a word holding any of those is said in double quotes followed, on
// the same line, by what goes wrong where and its PowerShell form, which
// is always safe there: `"C:\a$b" (PowerShell expands $ and ` in double
// quotes; in PowerShell: 'C:\a$b')`. A line pasted whole then fails on
// the note's words, loudly, rather than run on a folder the shell renamed;
// such names are rare.
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
	// PowerShell reads a bare word starting with @ as a splatted variable
	// (@runs: the values of $runs, nothing where it is unset).
	splat := goos == "windows" && strings.HasPrefix(p, "@")
	if p != "" && !splat && strings.IndexFunc(p, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == '@' ||
			goos == "windows" && r == '\\' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return p
	}
	if goos == "windows" {
		return windowsWord(p)
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// windowsWord is p in double quotes for cmd.exe and PowerShell alike,
// with the note Quote describes where a shell would expand part of it
// there.
func windowsWord(p string) string {
	// A run of backslashes before the closing quote would read as
	// escaping it (the Windows rule by which a program splits its command
	// line: 2n backslashes before a quote are n, and the quote ends the
	// word): doubled, they are the backslashes themselves.
	trail := len(p) - len(strings.TrimRight(p, `\`))
	word := `"` + p + strings.Repeat(`\`, trail) + `"`
	cmdExpands := strings.ContainsRune(p, '%')
	psExpands := strings.ContainsAny(p, "$`\u201c\u201d\u201e")
	if !cmdExpands && !psExpands {
		return word
	}
	// PowerShell's single quotes take all as written but a single quote,
	// typographic ones included, which is doubled.
	ps := "'" + strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019",
		"\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b").Replace(p) + "'"
	var why []string
	if cmdExpands {
		why = append(why, "cmd.exe expands % even in double quotes")
	}
	if strings.ContainsAny(p, "$`") {
		why = append(why, "PowerShell expands $ and ` in double quotes")
	} else if psExpands {
		why = append(why, "PowerShell ends double quotes at \u201c \u201d \u201e")
	}
	return word + " (" + strings.Join(why, ", ") + "; in PowerShell: " + ps + ")"
}
