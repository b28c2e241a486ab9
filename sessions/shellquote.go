package sessions

import "github.com/rlt-workbench/rlt/engine/shell"

// ShellQuote writes path p as one word of a command said to the user (rlt
// run --resume DIR, rlt score --run DIR, rlt open DIR): shell.Quote, whose
// quoting engine's errors use too (one owner, in the layer below).
func ShellQuote(p string) string { return shell.Quote(p) }

// Program is how a command said to the user begins: "rlt", "go run ."
// for a binary go run built, or the program as the user invoked it
// (shell.Program), so that a way on such as Program() + " run --resume
// DIR" can be typed as it is.
func Program() string { return shell.Program() }

// ShellWord is ShellQuote for a word that is not a path, such as a flag's
// value (--seed -1) or a flag itself: shell.Word.
func ShellWord(w string) string { return shell.Word(w) }
