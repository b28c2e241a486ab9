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
	seen := map[string]int{}
	out := map[string]bool{}
	for _, l := range lines {
		m := head.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := headingSlug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out, nil
}

// headingSlug is a heading's anchor as GitHub makes it from the heading's
// text (before a repeat's -1, -2, … suffix).
func headingSlug(title string) string {
	s := regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(title, "$1")
	s = strings.NewReplacer("`", "", "*", "").Replace(s)
	return strings.ReplaceAll(regexp.MustCompile(`[^\p{L}\p{N}_\- ]`).ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), ""), " ", "-")
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
			for _, sub := range []string{"defaults", "init", "info"} {
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
	case len(f) > 1 && f[0] == "model" && (f[1] == "defaults" || f[1] == "init" || f[1] == "info"):
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
		// Another program's (`timeout --foreground N rlt run …`): its own.
		ours := regexp.MustCompile("`timeout [^`]*`").ReplaceAllString(body, "")
		text := regexp.MustCompile("`rlt [^`]*`").ReplaceAllStringFunc(ours, func(span string) string {
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

// TestUsageNamesEveryFlag: a command's usage lines (--help's first lines,
// and commands.md's usage block, which TestCommandsDoc holds to them) name
// each of its flags, or say that it has more ("[flags]", "[sampling
// flags]"). rlt run's named neither --device nor --matmul, rlt eval's five
// of its flags and rlt logprobs' --device and --weights, where other
// commands' lines end in [flags], so a reader of the usage alone took them
// for all there is.
//
// Any line ending in "…flags]" excused every flag of its command, so a
// new flag left out of a usage passed, and "[flags]" could promise flags
// a command did not have; rlt generate's "[sampling flags]" stood for
// --system and --device too, which are not sampling. Now what each such
// word stands for is said here (usageLeavesOut): a flag that is neither
// named nor in it fails (add it to the usage, or here where the usage
// rightly leaves it to the word), as does a word whose flags the usage
// names all (take the word out) or a flag here the command lacks.
func TestUsageNamesEveryFlag(t *testing.T) {
	word := regexp.MustCompile(`\[(?:[a-z]+ )?flags\]`)
	for name, flags := range commandFlags(t) {
		usage := strings.Join(helpOf(t, strings.Fields(name)...).usage, "\n")
		named := func(f string) bool {
			return regexp.MustCompile(`--` + regexp.QuoteMeta(f) + `(?:[^\w-]|$)`).MatchString(usage)
		}
		leftTo := map[string]string{} // flag -> the word that stands for it
		for w, fs := range usageLeavesOut[name] {
			if !strings.Contains(usage, w) {
				t.Errorf("rlt %s --help: its usage does not say %s, which usageLeavesOut gives flags", name, w)
			}
			for _, f := range fs {
				if _, ok := flags[f]; !ok {
					t.Errorf("rlt %s has no --%s, which usageLeavesOut leaves to %s", name, f, w)
				} else if named(f) {
					t.Errorf("rlt %s --help: its usage names --%s, which usageLeavesOut leaves to %s: take it out there", name, f, w)
				}
				leftTo[f] = w
			}
		}
		for _, w := range word.FindAllString(usage, -1) {
			if len(usageLeavesOut[name][w]) == 0 {
				t.Errorf("rlt %s --help: its usage says %s, which stands for no flag of it: name its flags, or list them in usageLeavesOut", name, w)
			}
		}
		for f := range flags {
			if _, ok := leftTo[f]; !ok && !named(f) {
				t.Errorf("rlt %s --help: its usage names no --%s, nor does usageLeavesOut leave it to a [flags]:\n%s", name, f, usage)
			}
		}
	}
}

// usageLeavesOut is, for each command whose usage says it has more flags
// than it names, the flags each such word stands for (TestUsageNamesEveryFlag):
// the finer settings its Flags: section and commands.md describe.
var usageLeavesOut = map[string]map[string][]string{
	// vLLM's SamplingParams: what the sampling of one request is.
	"generate": {"[sampling flags]": {"temperature", "top-k", "top-p", "min-p", "max-new-tokens", "seed", "stop", "include-stop-str-in-output", "skip-special-tokens"}},
	"pretrain": {"[flags]": {"batch", "lr", "task"}},
	"distill": {"[flags]": {"task", "questions", "temperature", "max-new-tokens", "seed", "steps", "batch", "lr", "micro-batch-tokens", "student-init", "device",
		"best-of", "reward-student", "c1", "c2", "c3", "c4", "penalty", "estimator", "samples-out", "teacher-system", "student-system"}},
	"eval":  {"[flags]": {"samples", "max-new-tokens", "device", "teacher-system", "student-system"}},
	"train": {"[flags]": {"data", "eval-data", "task", "steps", "seed", "save", "device", "matmul", "print-config"}},
	"score": {"[flags]": {"tokenizer", "weights", "server-kind", "temperature", "c1", "c2", "c3", "c4", "penalty", "estimator", "batch", "micro-batch-tokens",
		"concurrency", "retries", "timeout", "device", "stats", "again", "teacher-system", "student-system"}},
	"serve":    {"[flags]": {"name", "public", "weights", "device", "max-logprobs", "max-model-len", "micro-batch-tokens"}},
	"logprobs": {"[flags]": {"weights", "device"}},
}

// TestReadmeListsEveryCommand: README.md's Commands list links every
// command's section of docs/commands.md, so a new command is not left out
// of the page a new user reads first (rlt --help lists commands() itself).
func TestReadmeListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(string(readme), "\n## Commands\n")
	if !ok {
		t.Fatal("README.md has no ## Commands section")
	}
	list, _, _ = strings.Cut(list, "\n## ")
	doc, err := os.ReadFile(filepath.Join("docs", "commands.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := map[string]string{} // command ("model init") -> its section's anchor
	for _, sec := range strings.Split(string(doc), "\n## ")[1:] {
		title, _, _ := strings.Cut(sec, "\n")
		for _, c := range strings.Split(title, ", ") {
			if name, ok := strings.CutPrefix(c, "rlt "); ok {
				section[name] = headingSlug(title)
			}
		}
	}
	names := []string{"model defaults", "model init", "model info"}
	for _, c := range commands() {
		if c.name != "model" {
			names = append(names, c.name)
		}
	}
	for _, name := range names {
		anchor, ok := section[name]
		if !ok {
			t.Errorf("docs/commands.md has no section for rlt %s", name)
		} else if !strings.Contains(list, "](docs/commands.md#"+anchor+")") {
			t.Errorf("README.md's Commands list has no link to docs/commands.md#%s (rlt %s)", anchor, name)
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

// testFuncs are the names of the Test, Fuzz and Benchmark functions in
// the repository's _test.go files, by the folder (package) they are in.
func testFuncs(t *testing.T) map[string][]string {
	t.Helper()
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w*)\(`)
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "runs") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(data), -1) {
			out[filepath.Dir(p)] = append(out[filepath.Dir(p)], m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testPattern finds a go test (or test binary) flag that selects tests or
// benchmarks, with its pattern, and the package folders named after it.
var (
	testPattern = regexp.MustCompile(`(?:^|[\s'"` + "`" + `])-(?:test\.)?(run|bench)[= ](?:'([^']*)'|"([^"]*)"|([^\s` + "`" + `]+))`)
	shellVar    = regexp.MustCompile(`\$[\w{]`)
	testPkg     = regexp.MustCompile(`(?:^|\s)\./([\w./-]*)`)
	oneGroup    = regexp.MustCompile(`^([\w]*)\(([\w|]+)\)([\w]*)$`)
)

// alternatives is a -run or -bench pattern's first level (the functions'
// names; later levels are subtests) as one regexp per alternative it
// names: ^(A|B)$ is ^A$ and ^B$, ^X(A|B)$ is ^XA$ and ^XB$. A pattern
// that selects nothing on purpose ('^$', '-') gives none.
func alternatives(pat string) []string {
	pat = strings.ReplaceAll(pat, `\|`, "|") // a Markdown table's escape
	depth, top := 0, pat
	for i, c := range pat {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case '/':
			if depth == 0 && top == pat {
				top = pat[:i]
			}
		}
	}
	if top == "^$" || top == "-" || top == "" || top == "." || shellVar.MatchString(top) {
		return nil // nothing on purpose, or a script's variable
	}
	lead, tail := "", ""
	if strings.HasPrefix(top, "^") {
		lead, top = "^", top[1:]
	}
	if strings.HasSuffix(top, "$") {
		tail, top = "$", top[:len(top)-1]
	}
	var alts []string
	if m := oneGroup.FindStringSubmatch(top); m != nil {
		for _, a := range strings.Split(m[2], "|") {
			alts = append(alts, lead+m[1]+a+m[3]+tail)
		}
	} else if !strings.ContainsAny(top, "()") {
		for _, a := range strings.Split(top, "|") {
			alts = append(alts, lead+a+tail)
		}
	} else {
		alts = append(alts, lead+top+tail)
	}
	return alts
}

// TestDocsTestNames: every test and benchmark that README.md, docs/*.md,
// bench/ and .ci/ select by name (go test -run, -bench, a test binary's
// -test.run) exists, in the package the command names where it names
// one: a renamed test cannot leave a page citing it, or bench/gpu.sh's
// one run on a lent GPU selecting nothing.
func TestDocsTestNames(t *testing.T) {
	funcs := testFuncs(t)
	var files []string
	for _, g := range []string{"README.md", "docs/*.md", "bench/*.sh", "bench/*/*.sh", ".ci/*"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			for _, m := range testPattern.FindAllStringSubmatchIndex(l, -1) {
				kind := l[m[2]:m[3]]
				pat := ""
				for g := 4; g < 10; g += 2 {
					if m[g] >= 0 {
						pat = l[m[g]:m[g+1]]
					}
				}
				var dirs []string // the package folders the command names after the pattern
				for _, p := range testPkg.FindAllStringSubmatch(strings.SplitN(l[m[1]:], "`", 2)[0], -1) {
					if d := strings.TrimSuffix(p[1], "/"); !strings.Contains(d, "...") {
						if d == "" {
							d = "."
						}
						dirs = append(dirs, filepath.Clean(d))
					}
				}
				if len(dirs) == 0 {
					for d := range funcs {
						dirs = append(dirs, d)
					}
				}
				for _, alt := range alternatives(pat) {
					re, err := regexp.Compile(alt)
					if err != nil {
						t.Errorf("%s:%d: -%s %q: %v", f, i+1, kind, pat, err)
						continue
					}
					checked++
					found := false
					for _, d := range dirs {
						for _, fn := range funcs[d] {
							isBench := strings.HasPrefix(fn, "Benchmark")
							if isBench == (kind == "bench") && re.MatchString(fn) {
								found = true
							}
						}
					}
					if !found {
						t.Errorf("%s:%d: -%s %q: no %s matches %s in %s", f, i+1, kind, pat,
							map[bool]string{true: "benchmark", false: "test"}[kind == "bench"], alt, strings.Join(dirs, ", "))
					}
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d test names checked: is the parser broken?", checked)
	}
	t.Logf("%d test and benchmark names checked in %d files", checked, len(files))
}

func TestAlternatives(t *testing.T) {
	for _, c := range []struct {
		pat  string
		want []string
	}{
		{"^$", nil},
		{"-", nil},
		{"^Benchmark$b\\$", nil},
		{"TestA", []string{"TestA"}},
		{"^(TestA|TestB)$", []string{"^TestA$", "^TestB$"}},
		{"^BenchmarkDevice(TrainStep|Sample)$", []string{"^BenchmarkDeviceTrainStep$", "^BenchmarkDeviceSample$"}},
		{"^BenchmarkLinear$/^(device|f16)$", []string{"^BenchmarkLinear$"}},
		{`FollowTRLStep\|ImportTRL`, []string{"FollowTRLStep", "ImportTRL"}},
		{"Head/fused-(1024rows|441rows)", []string{"Head"}},
		{"TestDevice(Parity.*)", []string{"TestDevice(Parity.*)"}},
	} {
		if got := alternatives(c.pat); strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("alternatives(%q) = %q, want %q", c.pat, got, c.want)
		}
	}
}
