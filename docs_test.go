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
