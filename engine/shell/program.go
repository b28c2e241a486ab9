package shell

import (
	"regexp"
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

// SetProgram sets Program from the process's argv[0] (programFor); main
// calls it before anything is said.
func SetProgram(argv0 string) {
	p := programFor(argv0)
	program.Store(&p)
}

// programFor is Program for a process started as argv0: "go run ." for a
// binary `go run` built (goRunBinary), argv0 as invoked otherwise ("rlt"
// found on PATH, ./rlt, /opt/rlt/rlt), quoted as a word of the shell's.
func programFor(argv0 string) string {
	switch {
	case argv0 == "":
		return "rlt"
	case goRunBinary(argv0):
		return "go run ."
	}
	return Quote(argv0)
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
