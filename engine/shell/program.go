package shell

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync/atomic"
)

// program is Program's value: "rlt" until SetProgram is called, so that
// tests, which call the commands in-process, see the commands as the
// documentation writes them.
var program atomic.Pointer[string]

// Program is how a command said to the user begins (Program() + " run
// --resume DIR"): the way the user started this process, so that the
// line can be typed as it is. A user who started with `go run .` has no
// rlt on PATH and was told `rlt run --resume …`, which the shell did not
// find; one who ran ./rlt or /opt/rlt/rlt is told that again.
func Program() string {
	if p := program.Load(); p != nil {
		return *p
	}
	return "rlt"
}

// SetProgram sets Program from the process's argv[0] (programFor) and,
// for a binary go run built, from where its main package's source is
// (mainDir, the folder of main's own file as the compiler recorded it) and
// the folder it runs in (goRunProgram); main calls it before anything is
// said.
func SetProgram(argv0, mainDir string) {
	p := programFor(argv0)
	if p == goRunHere {
		wd, _ := os.Getwd()
		var mainPkg, version string
		if bi, ok := debug.ReadBuildInfo(); ok {
			mainPkg, version = bi.Path, bi.Main.Version
		}
		p = goRunProgram(mainDir, wd, mainPkg, version)
	}
	program.Store(&p)
}

// goRunHere is the go run command of a user in the main package's folder.
const goRunHere = "go run ."

// programFor is Program for a process started as argv0: "go run ." for a
// binary `go run` built (goRunBinary; goRunProgram says where else it
// runs from), argv0 as invoked otherwise ("rlt" found on PATH, ./rlt,
// /opt/rlt/rlt), quoted as a word of the shell's.
func programFor(argv0 string) string {
	switch {
	case argv0 == "":
		return "rlt"
	case goRunBinary(argv0):
		return goRunHere
	}
	return Quote(argv0)
}

// goRunProgram is the go run command that runs the main package in
// mainDir again from the folder wd, as the user ran it: "go run ." in
// mainDir itself (the README's way), "go run .." or "go run ./cmd" from
// elsewhere in its module, as go run is given a folder relative to the one
// it runs in. From outside the module, go run reads no folder of it: there
// the binary was built from the module cache (go run MODULE@VERSION, said
// so) or in a workspace (go.work), whose go run takes the folder's path.
// What go run is told is not in the binary, so one case is said wrong:
// `go run -C DIR .`, whose process runs in DIR, is told "go run ." (a
// shell's PWD that differs is no proof: a program that starts rlt in a
// folder need not set it). A mainDir that is not a path (a build with
// -trimpath records the package's import path) says "go run .".
func goRunProgram(mainDir, wd, mainPkg, version string) string {
	if !filepath.IsAbs(mainDir) || wd == "" {
		return goRunHere
	}
	if mod := moduleRoot(mainDir); mod != "" && sameDir(mod, moduleRoot(wd)) {
		rel, err := filepath.Rel(wd, mainDir)
		if err != nil {
			return goRunHere
		}
		if rel == "." {
			return goRunHere
		}
		if rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			rel = "." + string(filepath.Separator) + rel // bare, go run reads an import path
		}
		return "go run " + Quote(rel)
	}
	if version != "" && version != "(devel)" && mainPkg != "" && strings.Contains(filepath.ToSlash(mainDir), "@"+version) {
		return "go run " + Word(mainPkg+"@"+version)
	}
	return "go run " + Quote(mainDir)
}

// moduleRoot is the folder of the go.mod that dir is in, as the go
// command finds it (dir or the nearest folder above holding one); "" for
// none.
func moduleRoot(dir string) string {
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// sameDir reports whether a and b, both not "", are one folder, however
// each is spelt (a link, /tmp on macOS being /private/tmp).
func sameDir(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

var (
	workDir   = regexp.MustCompile(`^go-build[0-9]+$`) // os.MkdirTemp's "go-build" and its number
	buildDir  = regexp.MustCompile(`^b[0-9]+$`)
	cacheDir  = regexp.MustCompile(`^[0-9a-f]{2}$`)
	cachedExe = regexp.MustCompile(`^[0-9a-f]{32,}-d$`)
)

// goRunBinary reports whether path is where `go run` puts the binary it
// builds: a temporary work directory's GOTMPDIR/go-buildN/b001/exe/NAME,
// or, from Go 1.24 on, where it caches the binary to run again,
// GOCACHE/xx/HASH-d/NAME (GOCACHE may be anywhere, set by go env -w, so
// the shape is what tells). A test binary (go-buildN/b001/NAME.test) is
// neither. The whole shape is asked, so that a user's own binary in a
// folder that only looks like one is taken as invoked: the work directory
// is "go-build" and digits only (not go-builds/b1/exe/rlt), and a cache
// entry's folder is its hash's first two characters (not ab/HASH-d/rlt
// whose hash begins 01).
func goRunBinary(path string) bool {
	el := strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' })
	n := len(el)
	if n >= 4 && el[n-2] == "exe" && buildDir.MatchString(el[n-3]) && workDir.MatchString(el[n-4]) {
		return true
	}
	return n >= 3 && cachedExe.MatchString(el[n-2]) && cacheDir.MatchString(el[n-3]) && strings.HasPrefix(el[n-2], el[n-3])
}
