package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// mdName is a Markdown file's name as a text cites it ("docs/engine.md",
// "RLT.md", "../shared/DESIGN.md"); docSection is a citation of a section
// of one of docs/*.md as help texts write it: "docs/engine.md, The reward".
var (
	mdName     = regexp.MustCompile(`[\w./-]*[\w-]\.md\b`)
	docSection = regexp.MustCompile(`\bdocs/([\w-]+\.md), ([A-Z][^.;:()]*)`)
	otherSite  = regexp.MustCompile(`\w+://\S+`) // another site's file
)

// citedFileFault says what is wrong with the files text (in dir, the
// repository's root or docs/) cites: a Markdown file the repository does
// not ship, a path into ../shared (the project's notes beside the
// repository, which a user never has), or a "docs/X.md, Section" that X
// has no heading for. "" when nothing is.
func citedFileFault(text, dir string) string {
	text = strings.Join(strings.Fields(text), " ") // a help text's line breaks
	if strings.Contains(text, "../shared") {
		return "cites ../shared, outside the repository"
	}
	for _, name := range mdName.FindAllString(otherSite.ReplaceAllString(text, ""), -1) {
		found := false
		for _, base := range []string{dir, ".", "docs"} {
			if st, err := os.Stat(filepath.Join(base, name)); err == nil && !st.IsDir() {
				found = true
				break
			}
		}
		if !found {
			return "cites " + name + ", which the repository does not ship"
		}
	}
	for _, m := range docSection.FindAllStringSubmatch(text, -1) {
		heads, err := headings(filepath.Join("docs", m[1]))
		if err != nil {
			return err.Error()
		}
		if !heads[headingSlug(m[2])] {
			return "cites docs/" + m[1] + ", " + m[2] + ": no such heading there"
		}
	}
	return ""
}

// TestTextsCiteShippedFiles: the help texts, messages and documents a user
// reads cite only files this repository ships. They cited "RLT.md §5",
// "RLT.md §3", … (rlt export, train and distill's --help, docs/engine.md,
// commands.md, formats.md) and ../shared/DESIGN.md (performance.md): the
// project's notes beside the repository, which no user has; the method
// they cite is in docs/engine.md's The RLT method now. Every string
// literal of the module's code (not its tests) and every line of README.md
// and docs/*.md is checked.
func TestTextsCiteShippedFiles(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
				return true
			}
			if fault := citedFileFault(s, "."); fault != "" {
				t.Errorf("%s: a string %s", fset.Position(lit.Pos()), fault)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob("docs/*.md")
	for _, doc := range append([]string{"README.md"}, docs...) {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			if fault := citedFileFault(l, filepath.Dir(doc)); fault != "" {
				t.Errorf("%s:%d: %s", doc, i+1, fault)
			}
		}
	}
}

// TestCitedFileFault: what the check takes and what it refuses, so that
// TestTextsCiteShippedFiles passing means something.
func TestCitedFileFault(t *testing.T) {
	for _, c := range []struct {
		text, dir string
		bad       bool
	}{
		{"ready for distillation (RLT.md §5)", ".", true},
		{"not the 177 `../shared/DESIGN.md` assumed", "docs", true},
		{"runs ../shared/bench/torch_ref.py", "docs", true},
		{"see docs/nothing.md", ".", true},
		{"(docs/engine.md, Distillation)", ".", false},
		{"(docs/engine.md,\nThe reward)", ".", false},
		{"(docs/engine.md, Some section it lacks)", ".", true},
		{"(docs/formats.md, User data)", ".", false},
		{"[formats.md](formats.md#user-data)", "docs", false},
		{"the [README](../README.md)", "docs", false},
		{"a model folder's README.md", ".", false},
		{"https://example.com/x/notes.md", ".", false},
		{"no file at all", ".", false},
	} {
		if got := citedFileFault(c.text, c.dir); (got != "") != c.bad {
			t.Errorf("citedFileFault(%q, %q) = %q, want a fault: %v", c.text, c.dir, got, c.bad)
		}
	}
}
