package shell

import "testing"

// TestQuote: a folder of plain path characters is said as it is; any
// other is quoted so that the shell reads it back as one word, a quote in
// it included; a relative folder starting with '-' is said as ./-name, not
// read as a flag. On Windows the quotes are double ones (cmd.exe and
// PowerShell both read them).
func TestQuote(t *testing.T) {
	for _, c := range []struct{ goos, in, want string }{
		{"linux", "runs/20261206-031500", "runs/20261206-031500"},
		{"linux", "/home/a.b/runs_1+2:x@y", "/home/a.b/runs_1+2:x@y"},
		{"linux", "my runs", "'my runs'"},
		{"linux", "it's", `'it'\''s'`},
		{"linux", "it's/run", `'it'\''s/run'`},
		{"linux", "$HOME/runs", "'$HOME/runs'"},
		{"linux", "", "''"},
		{"linux", "дир", "'дир'"},
		{"linux", "-run", "./-run"},
		{"linux", "--resume/x", "./--resume/x"},
		{"linux", "-my run", "'./-my run'"},
		{"linux", `C:\runs`, `'C:\runs'`},
		{"darwin", "my runs", "'my runs'"},
		{"windows", `C:\runs\20261206-031500`, `C:\runs\20261206-031500`},
		{"windows", `C:\my runs\r1`, `"C:\my runs\r1"`},
		{"windows", "it's", `"it's"`},
		{"windows", "-run", "./-run"},
		{"windows", "", `""`},
		// PowerShell reads a bare word starting with @ as a splatted
		// variable (@runs: $runs's values, nothing where it is unset).
		{"windows", "@runs", `"@runs"`},
		{"windows", `@runs\r1`, `"@runs\r1"`},
		{"windows", `runs\@r1`, `runs\@r1`},
		{"linux", "@runs", "@runs"},
		// Trailing backslashes doubled: `"C:\my runs\"` reads as one
		// word going on past its closing quote.
		{"windows", `C:\my runs\`, `"C:\my runs\\"`},
		{"windows", `\\host\my share\\`, `"\\host\my share\\\\"`},
		// What a shell expands in double quotes: said on the line, with
		// the PowerShell form that takes it as written.
		{"windows", `C:\runs\a$b`, `"C:\runs\a$b" (PowerShell expands $ and ` + "`" + ` in double quotes; in PowerShell: 'C:\runs\a$b')`},
		{"windows", "C:\\runs\\a`tb", "\"C:\\runs\\a`tb\" (PowerShell expands $ and ` in double quotes; in PowerShell: 'C:\\runs\\a`tb')"},
		{"windows", "C:\\\u201cq\u201d", "\"C:\\\u201cq\u201d\" (PowerShell ends double quotes at \u201c \u201d \u201e; in PowerShell: 'C:\\\u201cq\u201d')"},
		{"windows", `C:\50%x%`, `"C:\50%x%" (cmd.exe expands % even in double quotes; in PowerShell: 'C:\50%x%')`},
		{"windows", `C:\it's 5%`, `"C:\it's 5%" (cmd.exe expands % even in double quotes; in PowerShell: 'C:\it''s 5%')`},
		{"windows", "C:\\\u2019$x", "\"C:\\\u2019$x\" (PowerShell expands $ and ` in double quotes; in PowerShell: 'C:\\\u2019\u2019$x')"},
		{"windows", `C:\%p%\$q`, `"C:\%p%\$q" (cmd.exe expands % even in double quotes, PowerShell expands $ and ` + "`" + ` in double quotes; in PowerShell: 'C:\%p%\$q')`},
		{"linux", `/runs/50%x%/$q`, `'/runs/50%x%/$q'`},
	} {
		if got := quoteFor(c.goos, c.in); got != c.want {
			t.Errorf("quoteFor(%s, %q) = %s, want %s", c.goos, c.in, got, c.want)
		}
	}
}

// TestWord: a flag or a flag's value is quoted as a path is, but a
// leading '-' is kept (--seed -1 stays -1).
func TestWord(t *testing.T) {
	for _, c := range []struct{ goos, in, want string }{
		{"linux", "-1", "-1"},
		{"linux", "-test.run=^T$", "'-test.run=^T$'"},
		{"linux", "a b", "'a b'"},
		{"windows", "-1", "-1"},
		{"windows", "a b", `"a b"`},
		{"windows", "$x", `"$x" (PowerShell expands $ and ` + "`" + ` in double quotes; in PowerShell: '$x')`},
	} {
		if got := wordFor(c.goos, c.in); got != c.want {
			t.Errorf("wordFor(%s, %q) = %s, want %s", c.goos, c.in, got, c.want)
		}
	}
}
