package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsLinks checks every relative link in README.md and docs/*.md: the
// file it names exists and its #anchor is a heading there, slugged as
// GitHub does. Moving a section otherwise leaves dead links behind.
func TestDocsLinks(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join("docs", "*.md"))
	files := append([]string{"README.md"}, docs...)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	count := 0
	for _, f := range files {
		lines, err := markdownLines(f, true)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range lines {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if regexp.MustCompile(`^[a-z]+:`).MatchString(target) {
					continue // a web address
				}
				count++
				path, frag, _ := strings.Cut(target, "#")
				file := f
				if path != "" {
					file = filepath.Join(filepath.Dir(f), filepath.FromSlash(path))
				}
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s:%d: %s: no file %s", f, i+1, target, file)
					continue
				}
				if frag == "" {
					continue
				}
				heads, err := headings(file)
				if err != nil {
					t.Errorf("%s:%d: %s: %v", f, i+1, target, err)
				} else if !heads[frag] {
					t.Errorf("%s:%d: %s: no heading #%s in %s", f, i+1, target, frag, file)
				}
			}
		}
	}
	if count < 50 {
		t.Errorf("only %d relative links found: is the parser broken?", count)
	}
}

// markdownLines is a Markdown file's lines with fenced code blanked out
// and, with dropCode, inline code spans removed (a link inside one is not
// a link; a heading keeps its code's text in its anchor).
func markdownLines(path string, dropCode bool) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	code := regexp.MustCompile("`[^`]*`")
	lines := strings.Split(string(data), "\n")
	fence := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "```"):
			fence = !fence
			lines[i] = ""
		case fence:
			lines[i] = ""
		case dropCode:
			lines[i] = code.ReplaceAllString(l, "")
		}
	}
	return lines, nil
}

// headings are a Markdown file's heading anchors as GitHub makes them:
// lower case, punctuation but "-" and "_" dropped, spaces as "-", a
// repeated one suffixed -1, -2, ….
func headings(path string) (map[string]bool, error) {
	lines, err := markdownLines(path, false)
	if err != nil {
		return nil, err
	}
	head := regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	linkText := regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	drop := regexp.MustCompile(`[^\p{L}\p{N}_\- ]`)
	seen := map[string]int{}
	out := map[string]bool{}
	for _, l := range lines {
		m := head.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := linkText.ReplaceAllString(m[1], "$1")
		s = strings.NewReplacer("`", "", "*", "").Replace(s)
		s = strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), ""), " ", "-")
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out, nil
}

// helpText is what `rlt ARGS --help` prints: its usage lines, its example
// command lines, and each flag with the default the flag package prints
// ("" when it prints none: a zero default, or one the flag's text says in
// words).
type helpText struct {
	usage    []string
	examples []string
	flags    map[string]string
}

var flagDefault = regexp.MustCompile(`\(default (.*)\)$`)

func helpOf(t *testing.T, args ...string) helpText {
	t.Helper()
	code, out, errs := runCLI(t, "", append(args, "--help")...)
	if code != 0 {
		t.Fatalf("rlt %s --help: exit %d", strings.Join(args, " "), code)
	}
	h := helpText{flags: map[string]string{}}
	text, flags, _ := strings.Cut(out+errs, "\nFlags:\n")
	for i, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "Usage: "):
			h.usage = append(h.usage, strings.TrimSpace(strings.TrimPrefix(l, "Usage: ")))
		case len(h.usage) == i && strings.HasPrefix(l, "       rlt "):
			h.usage = append(h.usage, strings.TrimSpace(l))
		case strings.HasPrefix(l, "  "):
			ex := strings.TrimSpace(l)
			if j := strings.Index(ex, "| rlt "); j >= 0 {
				ex = ex[j+2:]
			}
			if strings.HasPrefix(ex, "rlt ") && !strings.HasPrefix(ex, "rlt  ") { // not a table's row
				h.examples = append(h.examples, ex)
			}
		}
	}
	name := ""
	for _, l := range strings.Split(flags, "\n") {
		if f := strings.Fields(l); strings.HasPrefix(l, "  -") && len(f) > 0 {
			name = strings.TrimPrefix(f[0], "-")
			h.flags[name] = ""
		} else if m := flagDefault.FindStringSubmatch(strings.TrimSpace(l)); m != nil && name != "" {
			h.flags[name] = strings.Trim(m[1], `"`)
		}
	}
	return h
}

// commandFlags are `rlt CMD --help`'s flags for every command and
// subcommand ("model init"), by its name.
func commandFlags(t *testing.T) map[string]map[string]string {
	t.Helper()
	all := map[string]map[string]string{}
	for _, c := range commands() {
		if c.name == "model" {
			for _, sub := range []string{"init", "info"} {
				all["model "+sub] = helpOf(t, "model", sub).flags
			}
			continue
		}
		all[c.name] = helpOf(t, c.name).flags
	}
	return all
}

// commandLine is a command line that starts with rlt (or go run .): the
// command it calls, "" when it names none, and the flags it gives.
func commandLine(line string, all map[string]map[string]string) (cmd string, flags []string) {
	// A shell comment, a pipe or a redirection ends the command.
	if i := regexp.MustCompile(`\s(#|\||<|>|2>|&&|;)`).FindStringIndex(line); i != nil {
		line = line[:i[0]]
	}
	f := strings.Fields(line)[1:]
	if len(f) > 1 && f[0] == "help" { // rlt help score is score's --help
		f = f[1:]
	}
	switch {
	case len(f) > 1 && f[0] == "model" && (f[1] == "init" || f[1] == "info"):
		cmd, f = "model "+f[1], f[2:]
	case len(f) > 0 && all[f[0]] != nil:
		cmd, f = f[0], f[1:]
	case len(f) == 0 || strings.HasPrefix(f[0], "-") || strings.HasPrefix(f[0], "["):
		cmd = "run" // rlt alone is rlt run
	default:
		return "", nil
	}
	for _, tok := range f {
		tok = strings.TrimRight(strings.TrimLeft(tok, "[("), "])…,.:;")
		if strings.HasPrefix(tok, "-") && strings.Trim(tok, "-") != "" {
			name, _, _ := strings.Cut(strings.TrimLeft(tok, "-"), "=")
			flags = append(flags, name)
		}
	}
	return cmd, flags
}

// docCommandLines are the command lines that start with rlt in README.md's
// and docs/*.md's code, with the file and line each is on: inline code,
// and fenced lines (after a prompt such as "gpu$ ").
func docCommandLines(t *testing.T) (lines []string, where []string) {
	t.Helper()
	docs, _ := filepath.Glob(filepath.Join("docs", "*.md"))
	start := regexp.MustCompile(`^(rlt|rlt\.exe|go run \.)(\s|$)`)
	inFence := regexp.MustCompile(`(?:^|[\s$])((?:rlt|rlt\.exe|go run \.)(?:\s.*)?)$`)
	for _, f := range append([]string{"README.md"}, docs...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fence := false
		for i, l := range strings.Split(string(data), "\n") {
			var found []string
			switch {
			case strings.HasPrefix(strings.TrimSpace(l), "```"):
				fence = !fence
			case fence:
				if m := inFence.FindStringSubmatch(strings.TrimRight(l, " ")); m != nil {
					found = append(found, m[1])
				}
			default:
				for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(l, -1) {
					if start.MatchString(m[1]) {
						found = append(found, m[1])
					}
				}
			}
			for _, c := range found {
				c = strings.Replace(c, "go run .", "rlt", 1)
				if f := strings.Fields(c); len(f) > 1 && strings.HasSuffix(f[1], ":") {
					continue // a message quoted: "rlt train: --teacher … are required"
				}
				lines = append(lines, c)
				where = append(where, fmt.Sprintf("%s:%d", f, i+1))
			}
		}
	}
	return lines, where
}

// TestDocsCommandLines: every rlt command line in the documentation and
// in the --help examples calls a command that exists with flags it has,
// so a flag renamed or removed cannot live on in a page or an example.
func TestDocsCommandLines(t *testing.T) {
	all := commandFlags(t)
	lines, where := docCommandLines(t)
	for _, c := range commands() {
		for _, ex := range helpOf(t, c.name).examples {
			lines, where = append(lines, ex), append(where, "rlt "+c.name+" --help")
		}
	}
	if len(lines) < 60 {
		t.Fatalf("only %d command lines found: is the parser broken?", len(lines))
	}
	for i, l := range lines {
		cmd, flags := commandLine(l, all)
		if cmd == "" {
			t.Errorf("%s: %q: no such command", where[i], l)
			continue
		}
		for _, name := range flags {
			if _, ok := all[cmd][name]; !ok {
				t.Errorf("%s: %q: rlt %s has no flag --%s", where[i], l, cmd, name)
			}
		}
	}
}

// TestCommandsDoc checks docs/commands.md against each command's --help:
// a section per command, whose usage block is the usage lines --help
// prints; which names every flag the command has and none it has not
// (a flag in a code span that calls another command is that command's);
// and whose "Defaults:" line gives each flag with a default, as --help
// prints it.
func TestCommandsDoc(t *testing.T) {
	all := commandFlags(t)
	data, err := os.ReadFile(filepath.Join("docs", "commands.md"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, sec := range strings.Split(string(data), "\n## ")[1:] {
		title, body, _ := strings.Cut(sec, "\n")
		if !strings.HasPrefix(title, "rlt ") {
			continue
		}
		var usage []string
		own := map[string]string{}
		for _, c := range strings.Split(title, ", ") {
			name := strings.TrimPrefix(c, "rlt ")
			if all[name] == nil {
				t.Errorf("commands.md: ## %s: no command rlt %s", title, name)
				continue
			}
			covered[name] = true
			h := helpOf(t, strings.Fields(name)...)
			usage = append(usage, h.usage...)
			for f, d := range h.flags {
				own[f] = d
			}
		}
		// The usage block: the section's first fenced block.
		if _, rest, ok := strings.Cut(body, "```\n"); !ok {
			t.Errorf("commands.md: ## %s: no usage block", title)
		} else if block, _, _ := strings.Cut(rest, "```"); strings.Join(usage, "\n") != strings.TrimSpace(block) {
			t.Errorf("commands.md: ## %s: usage block\n%s\nis not what --help prints:\n%s", title, strings.TrimSpace(block), strings.Join(usage, "\n"))
		}
		// The flags it names: those of the code spans and fenced lines
		// that call another command are that command's.
		named := map[string]bool{}
		text := regexp.MustCompile("`rlt [^`]*`").ReplaceAllStringFunc(body, func(span string) string {
			if cmd, _ := commandLine(strings.Trim(span, "`"), all); cmd != "" && !strings.Contains(title, "rlt "+cmd) {
				return ""
			}
			return span
		})
		for _, m := range regexp.MustCompile(`(?:^|[^\w-])--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(text, -1) {
			if m[1] != "flag" { // "--flag:", how a message names any flag
				named[m[1]] = true
			}
		}
		for f := range named {
			if _, ok := own[f]; !ok {
				t.Errorf("commands.md: ## %s names --%s, which %s does not have", title, f, title)
			}
		}
		// The Defaults: paragraph, to the next blank line.
		defaults := map[string]string{}
		if _, para, ok := strings.Cut(body, "\nDefaults:"); ok {
			para, _, _ = strings.Cut(para, "\n\n")
			for _, m := range regexp.MustCompile("`--([a-z0-9-]+) ([^`]*)`").FindAllStringSubmatch(para, -1) {
				defaults[m[1]] = m[2]
			}
		}
		for f, d := range own {
			switch got, ok := defaults[f]; {
			case !named[f]:
				t.Errorf("commands.md: ## %s does not name --%s", title, f)
			case d != "" && !ok:
				t.Errorf("commands.md: ## %s: its Defaults: line lacks `--%s %s`", title, f, d)
			case ok && got != d:
				t.Errorf("commands.md: ## %s: Defaults: `--%s %s`, but --help says %q", title, f, got, d)
			}
		}
	}
	for name := range all {
		if !covered[name] {
			t.Errorf("commands.md has no section for rlt %s", name)
		}
	}
}

// TestFuzzScriptListsEveryTarget: bench/fuzz.sh, which docs/reliability.md
// says runs every fuzz target, lists every Fuzz function of the module.
func TestFuzzScriptListsEveryTarget(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("bench", "fuzz.sh"))
	if err != nil {
		t.Fatal(err)
	}
	fuzz := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	n := 0
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, "_test.go"):
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzz.FindAllStringSubmatch(string(src), -1) {
			n++
			target := "./" + filepath.ToSlash(filepath.Dir(path)) + ":" + m[1]
			if !regexp.MustCompile(`(?:^|\s)` + regexp.QuoteMeta(target) + `(?:\s|$)`).Match(script) {
				t.Errorf("%s (%s) is not in bench/fuzz.sh's targets", target, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("only %d fuzz targets found: is the walk broken?", n)
	}
}
