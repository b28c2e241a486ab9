package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/rlt-workbench/rlt"

// layer orders the module's packages: a package imports only packages of
// its own layer or below (ui → sessions → engine → compute; main wires
// them all). sessions/runner, the rlt command's application package,
// sits with sessions and is imported by main alone. The benchmark
// commands under bench/ are programs beside main, at its layer.
func layer(pkg string) int {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	first, _, _ := strings.Cut(rel, "/")
	switch first {
	case "", "bench":
		return 4 // main, and the benchmark commands
	case "ui":
		return 3
	case "sessions":
		return 2
	case "engine":
		return 1
	case "compute":
		return 0
	}
	return -1
}

var layerName = []string{"compute", "engine", "sessions", "ui", "main"}

// goList runs go list with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// imports maps each package of the module to the module packages it
// imports (tests not included: they may reach across layers).
func imports(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for _, l := range goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...") {
		f := strings.Fields(l)
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, module) {
				out[f[0]] = append(out[f[0]], imp)
			}
		}
		if _, ok := out[f[0]]; !ok {
			out[f[0]] = nil
		}
	}
	return out
}

// Imports point one way: no package imports one of a layer above its own,
// and only main imports the application package sessions/runner. Tests'
// helpers (engine/stoptest: FIFOs, stack scans, contexts that cancel
// themselves) are imported by tests only, so that none is in rlt.
func TestImportsPointOneWay(t *testing.T) {
	for pkg, deps := range imports(t) {
		l := layer(pkg)
		if l < 0 {
			t.Errorf("%s is in no layer (ui, sessions, engine, compute or the root)", pkg)
			continue
		}
		for _, d := range deps {
			if ld := layer(d); ld > l {
				t.Errorf("%s (%s) imports %s (%s), a layer above it", pkg, layerName[l], d, layerName[ld])
			}
			if d == module+"/sessions/runner" && pkg != module {
				t.Errorf("%s imports sessions/runner, which only main may import", pkg)
			}
			if d == module+"/engine/stoptest" {
				t.Errorf("%s imports engine/stoptest, which only tests may import", pkg)
			}
		}
	}
}

// pathTo is a chain of imports from pkg to a package for which want is
// true, or nil.
func pathTo(deps map[string][]string, pkg string, want func(string) bool) []string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if want(p) {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{strings.TrimPrefix(p, module+"/")}, chain...)
			}
			return chain
		}
		for _, d := range deps[p] {
			if _, seen := prev[d]; !seen {
				prev[d] = p
				queue = append(queue, d)
			}
		}
	}
	return nil
}

// The viewer and the store link no numerical kernel: neither ui nor
// sessions depends on a compute package, directly or not; and sessions,
// which reads and writes scored explanations through engine/record, links
// no model, method, task, tokenizer or engine runner either.
func TestViewerAndStoreLinkNoCompute(t *testing.T) {
	deps := imports(t)
	isCompute := func(p string) bool { return layer(p) == 0 }
	for _, pkg := range []string{module + "/ui", module + "/sessions"} {
		if chain := pathTo(deps, pkg, isCompute); chain != nil {
			t.Errorf("%s links compute: %s", strings.TrimPrefix(pkg, module+"/"), strings.Join(chain, " → "))
		}
	}
	// The same as go list -deps sees it (tests excluded).
	for _, pkg := range []string{"./ui", "./sessions"} {
		for _, d := range goList(t, "-deps", pkg) {
			if strings.HasPrefix(d, module+"/compute") {
				t.Errorf("go list -deps %s lists %s", pkg, d)
			}
		}
	}
	for _, d := range goList(t, "-deps", "./sessions") {
		rel, ours := strings.CutPrefix(d, module+"/")
		if !ours {
			continue
		}
		for _, heavy := range []string{"engine/rlt", "engine/task", "engine/model", "engine/sample", "engine/run", "engine/warmstart", "engine/tokenizer"} {
			if rel == heavy || strings.HasPrefix(rel, heavy+"/") {
				t.Errorf("go list -deps ./sessions lists %s", d)
			}
		}
	}
}
