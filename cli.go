package main

// The helpers every subcommand shares: flags and usage, the exit errors,
// JSON Lines in and out, tokenizer loading, terminal detection and
// human-readable sizes.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
	"github.com/rlt-workbench/rlt/ui/style"
)

// errUsage means the usage text was already printed for a wrong call;
// errHelp means it was printed because it was asked for.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

// usageError is a wrong call: main prints what was wrong after the usage
// text, where the eye lands, and exits 2 as for errUsage. A wrong value
// of a flag (badValue) is said without the usage: its line, then the way
// to the usage.
type usageError struct {
	cmd, msg string // cmd: "rlt model info"
	value    bool   // a flag's value is wrong, and no usage was printed
}

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == errUsage }

// commandError is a failure of a subcommand (rlt model init): main names
// it whole, not by its command alone.
type commandError struct {
	cmd string // "rlt model init"
	err error
}

func (e commandError) Error() string { return e.err.Error() }
func (e commandError) Unwrap() error { return e.err }

// subcommand names err, a failure of the subcommand cmd ("rlt model
// init"), so main says it as that command's; a wrong call or help passes
// as it is.
func subcommand(cmd string, err error) error {
	if err == nil || err == errHelp || errors.Is(err, errUsage) {
		return err
	}
	return commandError{cmd, err}
}

// misuse prints fs's usage and returns the usageError saying what was
// wrong with the call.
func misuse(fs *flag.FlagSet, format string, args ...any) error {
	fs.Usage()
	return usageError{cmd: fs.Name(), msg: fmt.Sprintf(format, args...)}
}

// badValue is the usageError of a call whose flag was given a value the
// command does not take (--traces top:3,top:1, --device tpu, --steps x):
// the call's shape is right, so the usage is not printed. Its line says
// the flag, the value and what is wanted; main adds the way to the usage
// (See 'rlt report --help'.). The whole usage printed first, up to 150
// lines for rlt score, scrolled the one line that mattered off the
// screen, where a value's mistake needs no usage to be put right. A call
// of the wrong shape (an unknown flag, a missing one, an argument too
// many) still gets its usage: misuse.
func badValue(fs *flag.FlagSet, format string, args ...any) error {
	return usageError{cmd: fs.Name(), msg: fmt.Sprintf(format, args...), value: true}
}

// subcommandMisuse prints usage, that of cmd ("rlt model"), a command
// whose first argument names one of its subcommands (names), on w, and
// returns the usageError for a call that names none, or one cmd does not
// have: main says it after the usage, as every wrong call's.
func subcommandMisuse(w io.Writer, cmd, usage string, args []string, names ...string) error {
	fmt.Fprint(w, strings.TrimLeft(usage, "\n"))
	if len(args) == 0 {
		return usageError{cmd: cmd, msg: "missing subcommand: " + strings.Join(names, " or ")}
	}
	return usageError{cmd: cmd, msg: fmt.Sprintf("unknown subcommand %q (known: %s)", args[0], strings.Join(names, ", "))}
}

// checkArgs checks that the call left want arguments after its flags
// (named by what, e.g. "DIR", for the message).
func checkArgs(fs *flag.FlagSet, want int, what string) error {
	switch n := fs.NArg(); {
	case n > want && want == 0:
		return misuse(fs, "unexpected argument %q: %s takes only flags", fs.Arg(0), fs.Name())
	case n > want:
		return misuse(fs, "unexpected argument %q after %s", fs.Arg(want), what)
	case n < want:
		return misuse(fs, "missing %s", what)
	}
	return nil
}

// required names the first required flag the call left empty, as
// misuse's message. A command of flags alone that was given an argument
// (rlt export RUN) was most likely meant to take it as that flag: the
// message says how to write it.
func required(fs *flag.FlagSet, flags ...string) error {
	for _, name := range flags {
		if f := fs.Lookup(name); f != nil && f.Value.String() == "" {
			if fs.NArg() > 0 {
				return misuse(fs, "--%s is required (%q is an argument, which %s does not take: --%s %s?)", name, fs.Arg(0), fs.Name(), name, fs.Arg(0))
			}
			return misuse(fs, "--%s is required", name)
		}
	}
	return nil
}

// atLeast is a count flag and its least allowed value.
type atLeast struct {
	flag   string
	v, min int
}

// checkCounts refuses, naming it, the first count flag below its least
// allowed value.
func checkCounts(fs *flag.FlagSet, counts ...atLeast) error {
	for _, c := range counts {
		if c.v < c.min {
			return badValue(fs, "--%s %d: want at least %d", c.flag, c.v, c.min)
		}
	}
	return nil
}

// newFlags is a command's flag set. Its usage goes to stdout when the call
// asks for it (--help, -h: the answer, to page or grep, as rlt --help's
// and rlt model --help's), and to stderr above a wrong call's error.
func newFlags(name, usage string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&flagOutput{stdout: stdout, stderr: stderr})
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, strings.TrimLeft(usage, "\n"))
		if hasFlags(fs) {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// flagOutput is where a flag set writes: stderr, but stdout while the
// usage asked for is printed (help).
type flagOutput struct {
	stdout, stderr io.Writer
	help           bool
}

func (o *flagOutput) Write(p []byte) (int, error) {
	if o.help {
		return o.stdout.Write(p)
	}
	return o.stderr.Write(p)
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args, flags and arguments in any order (rlt model info
// DIR --device cpu as well as rlt model info --device cpu DIR; Go's flags
// alone stop at the first argument); after "--" everything is an argument.
// fs.Args() then holds the arguments in their order.
func parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package prints its complaint above the usage, where a long
	// usage scrolls it away: it is silenced here and said after the usage,
	// as every wrong call's (misuse), or, for a value the flag's type does
	// not read (--steps x), alone (badValue).
	out, usage := fs.Output(), fs.Usage
	unwrap := refuseLeadingZeros(fs)
	refused, unwatch := watchRefusals(fs)
	restore := func() { fs.SetOutput(out); fs.Usage = usage; unwatch(); unwrap() }
	defer restore()
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			restore() // the usage is printed after all
			if errors.Is(err, flag.ErrHelp) {
				if o, ok := fs.Output().(*flagOutput); ok {
					o.help = true
					defer func() { o.help = false }()
				}
				fs.Usage()
				return errHelp
			}
			// The flag package's errors are text alone: that a flag's
			// Value refused its value is known by the Value's own Set
			// having failed (watchRefusals), not by the words.
			if *refused {
				return badValue(fs, "%s", flagProblem(fs, err))
			}
			return misuse(fs, "%s", flagProblem(fs, err))
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// refuseLeadingZeros makes fs's count flags (int, uint and their 64-bit
// forms) refuse a value with a leading 0, until the returned func puts
// their own values back (before a usage is printed, whose type names and
// defaults read them). The flag package reads a count as strconv does with
// base 0, where a leading 0 is octal: rlt generate --max-new-tokens 010
// wrote 8 tokens, with nothing said but its "stopped by --max-new-tokens 8". A
// prefixed form says its base and is taken (0x10, 0o10, 0b10), as is 0.
func refuseLeadingZeros(fs *flag.FlagSet) (unwrap func()) {
	own := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		switch g.Get().(type) {
		case int, int64, uint, uint64:
			own[f] = f.Value
			f.Value = noLeadingZero{g}
		}
	})
	return func() {
		for f, v := range own {
			f.Value = v
		}
		clear(own)
	}
}

// watchRefusals wraps every flag of fs so that *refused tells whether a
// flag's own Set refused its value (--steps x, --device tpu, --mouse=maybe)
// during a parse, until the returned func puts the flags' own values back.
// The flag package returns that Set's error as text alone (errors.New of
// "invalid value …", not wrapped), and a call of the wrong shape (an unknown
// flag, one without its argument) calls no Set: so a value's mistake is
// told apart by what happened, not by the words of the message.
func watchRefusals(fs *flag.FlagSet) (refused *bool, unwatch func()) {
	refused = new(bool)
	own := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		own[f], f.Value = f.Value, watched{f.Value, refused}
	})
	return refused, func() {
		for f, v := range own {
			f.Value = v
		}
		clear(own)
	}
}

// watched is a flag's Value that notes when its Set refuses a value
// (watchRefusals).
type watched struct {
	flag.Value
	refused *bool
}

func (v watched) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil {
		*v.refused = true
	}
	return err
}

// IsBoolFlag is the watched Value's: the flag package reads a bool flag
// written alone (--mouse) by it.
func (v watched) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// noLeadingZero is a count flag's value that refuses a leading 0
// (refuseLeadingZeros says why).
type noLeadingZero struct{ flag.Getter }

func (v noLeadingZero) Set(s string) error {
	sign, digits := "", s
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, digits = s[:1], s[1:]
	}
	if len(digits) > 1 && digits[0] == '0' && (digits[1] >= '0' && digits[1] <= '9' || digits[1] == '_') {
		meant := strings.TrimLeft(digits, "0_")
		if meant == "" {
			meant = "0"
		}
		msg := fmt.Sprintf("a leading 0 reads as octal (010 is 8): write %s%s without it", sign, meant)
		if meant != "0" && strings.Trim(meant, "01234567_") == "" {
			msg += fmt.Sprintf(", or %s0o%s where octal is meant", sign, meant)
		}
		return errors.New(msg)
	}
	return v.Getter.Set(s)
}

// flagProblem says err, the flag package's complaint about a call, with
// flags written as the usage writes them (--name) and, for a flag fs does
// not define, the one most likely meant: "unknown flag --headles (did you
// mean --headless?)".
func flagProblem(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	name, unknown := strings.CutPrefix(msg, "flag provided but not defined: -")
	if !unknown {
		// The flag package's other complaints, their flag spelt -name:
		// "flag needs an argument: -out", "invalid value "x" for flag
		// -steps: …", "invalid boolean value "x" for -mouse: …". The last
		// match is the flag's, whatever the quoted value holds.
		if m := flagInMessage.FindStringSubmatchIndex(msg); m != nil {
			out := msg[:m[2]] + "-" + msg[m[2]:]
			// strconv's "parse error" says nothing of what would parse.
			if want := flagWants(fs, msg[m[2]+1:m[3]]); want != "" {
				for _, tail := range []string{": parse error", ": value out of range"} {
					if head, ok := strings.CutSuffix(out, tail); ok {
						hint := wholeNumberHint(fs, msg[m[2]+1:m[3]], msg, tail)
						if strings.HasPrefix(hint, " from ") {
							want = "a whole number" // the range says "0 or more" itself
						}
						return head + tail + ": want " + want + hint
					}
				}
			}
			return out
		}
		return msg
	}
	msg = "unknown flag --" + name
	if near := nearestFlag(fs, name); near != "" {
		msg += " (did you mean --" + near + "?)"
	}
	return msg
}

// flagGetter is fs's flag name as a flag.Getter, whose value's type says what
// the flag takes; nil for no such flag or a Value of our own without Get.
func flagGetter(fs *flag.FlagSet, name string) flag.Getter {
	f := fs.Lookup(name)
	if f == nil {
		return nil
	}
	g, _ := f.Value.(flag.Getter)
	return g
}

// flagWants says what values the flag name of fs takes, by its type: ""
// for a string or a type of our own (whose errors say it themselves).
func flagWants(fs *flag.FlagSet, name string) string {
	g := flagGetter(fs, name)
	if g == nil {
		return ""
	}
	switch g.Get().(type) {
	case int, int64:
		return "a whole number"
	case uint, uint64:
		return "a whole number, 0 or more"
	case float64:
		return "a number, such as 0.5 or 1e-6"
	case time.Duration:
		return "a duration, such as 30s or 5m"
	case bool:
		return "true or false"
	}
	return ""
}

// wholeNumberHint adds, for a count flag (int, uint) whose value did not
// parse, what the user most likely meant: its type's range where the value
// was past it (99999999999999999999 said "value out of range: want a whole
// number", no range), and where a number in a float's form was given
// (1e3, 2.0) the whole number it is. "" for other flags and values.
func wholeNumberHint(fs *flag.FlagSet, name, msg, tail string) string {
	g := flagGetter(fs, name)
	if g == nil {
		return ""
	}
	var lo, hi string
	var top float64 // the largest whole number the type holds, as a float (rounded up for 64 bits)
	switch g.Get().(type) {
	case int:
		lo, hi, top = strconv.Itoa(math.MinInt), strconv.Itoa(math.MaxInt), float64(math.MaxInt)
	case int64:
		lo, hi, top = strconv.FormatInt(math.MinInt64, 10), strconv.FormatInt(math.MaxInt64, 10), math.MaxInt64
	case uint:
		lo, hi, top = "0", strconv.FormatUint(uint64(math.MaxUint), 10), float64(math.MaxUint)
	case uint64:
		lo, hi, top = "0", strconv.FormatUint(math.MaxUint64, 10), math.MaxUint64
	default:
		return ""
	}
	if tail == ": value out of range" {
		return " from " + lo + " to " + hi
	}
	q := valueInMessage.FindStringSubmatch(msg)
	if q == nil {
		return ""
	}
	v, err := strconv.Unquote(q[1])
	if err != nil {
		return ""
	}
	if _, err := strconv.ParseInt(v, 0, 64); err == nil {
		return "" // a whole number already (-1 for a uint flag): "0 or more" says it
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x != math.Trunc(x) || x >= top || x < 0 && lo == "0" || x < -top {
		return "" // not a whole number (1.5, NaN, Inf), or past the range
	}
	return fmt.Sprintf(" (%s is written %s)", v, strconv.FormatFloat(x, 'f', -1, 64))
}

// valueInMessage finds the quoted value of the flag package's "invalid
// value "…" for flag -name: …" (submatch 1, quoted as %q quotes it).
var valueInMessage = regexp.MustCompile(`^invalid value ("(?:[^"\\]|\\.)*") for flag `)

// flagInMessage finds the -name of the flag a complaint of the flag
// package names (submatch 1 starts at its dash).
var flagInMessage = regexp.MustCompile(`^(?:flag needs an argument: |invalid (?:boolean )?value .* for (?:flag )?)(-[^\s:=]+)(?::|$)`)

// nearestFlag is the flag of fs whose name is closest to name, by edit
// distance, when at most 2 edits (or a third of name) apart, else the one
// flag name begins (-o for --out); "" if none is.
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", min(2, len(name)/3)+1
	var prefixed []string
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(name, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
		if strings.HasPrefix(f.Name, name) {
			prefixed = append(prefixed, f.Name)
		}
	})
	if best == "" && len(prefixed) == 1 {
		best = prefixed[0]
	}
	if best == "" {
		for _, other := range flagSynonyms[name] {
			if fs.Lookup(other) != nil {
				return other
			}
		}
	}
	return best
}

// flagSynonyms are the flags a name from other tools most likely means,
// in order, where its spelling is far from ours: rlt train saves to
// --save, not --out; a GPU is chosen with --device.
var flagSynonyms = map[string][]string{
	"out": {"save"}, "output": {"out", "save"}, "output-dir": {"out", "save"}, "save": {"out"},
	"gpu": {"device"}, "cuda": {"device"}, "cpu": {"device"},
	"model-dir": {"model"}, "model_name_or_path": {"model", "teacher"},
}

// editDistance is the edit distance between a and b (bytes): insertions,
// deletions, substitutions and swaps of two neighbours ("rnu" for "run"),
// each one edit (the optimal string alignment distance).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// flagsGiven is the names of the flags the call gave (fs parsed): a
// default the user did not ask for is told apart from one they did.
func flagsGiven(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

// refuseOverwrite checks, before any work, that writing the given files
// and model folders under dir replaces nothing: an earlier model's weights
// or a run's records are lost for good when overwritten. A model folder is
// taken when it holds config.json or weights; a file, when it exists (a
// link included). dir itself must be a folder or absent, and no link to
// nothing may stand on the way to it (refuseUnwritable). A model folder is
// renamed into place at the end (saveModelFolder): one that is a link to
// nothing or a mount point, where that rename fails, is refused too.
func refuseOverwrite(flagName, dir string, files, modelDirs []string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("--%s %s: a file, not a folder", flagName, dir)
	}
	if err := refuseUnwritable(flagName, dir, dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, sessions.ConfigFile)); err == nil {
		return fmt.Errorf("--%s %s: a run folder; writing there would mix with its records: choose a new folder", flagName, dir)
	}
	for _, f := range files {
		if err := refuseLinkToNothing(flagName, dir, filepath.Join(dir, f)); err != nil {
			return err
		}
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("--%s %s: %s exists and would be replaced: choose a new folder, or move it away first", flagName, dir, filepath.Join(dir, f))
		}
	}
	for _, m := range modelDirs {
		md := filepath.Join(dir, m)
		if err := refuseLinkToNothing(flagName, dir, md); err != nil {
			return err
		}
		if f := modelFile(md); f != "" {
			return fmt.Errorf("--%s %s: %s already holds a model (%s) that would be replaced: choose a new folder, or move it away first", flagName, dir, md, filepath.Base(f))
		}
		// A model folder is staged and renamed into place (saveModelFolder),
		// which takes an absent or empty folder only: one holding other
		// files is refused here, not after the training. "." beside other
		// model folders is the folder that holds them (rlt pretrain --out),
		// which may hold other files.
		if m == "." && len(modelDirs) > 1 {
			continue
		}
		if err := refuseNotEmpty(flagName, md); err != nil {
			return err
		}
		instead := "give a folder inside it, such as " + filepath.Join(md, "model")
		if m != "." {
			instead = fmt.Sprintf("unmount it, or give another --%s", flagName)
		}
		if err := refuseMountPoint(flagName, dir, md, instead); err != nil {
			return err
		}
	}
	return nil
}

// runsFolderProblem refuses --runs value where it, or a folder above it,
// is a file: no run folder can be made or listed there. rlt import
// looked for a free run folder name inside the file for ever (os.Stat's
// "not a directory" is no "does not exist"), rlt run said "mkdir
// runs.txt: not a directory" and rlt sessions "list runs: open runs.txt:
// not a directory", naming no flag and no way on. nil where the path
// leads to a folder or to none yet: a folder that cannot be made for
// another reason is said by the write that makes it.
func runsFolderProblem(value string) error {
	switch at := sessions.FileOnPath(value); at {
	case "":
		return nil
	case filepath.Clean(value):
		return fmt.Errorf("--runs %s is a file, not a folder: give --runs the folder that holds the run folders", value)
	default:
		return fmt.Errorf("--runs %s: %s is a file, not a folder: give --runs the folder that holds the run folders", value, at)
	}
}

// refuseLinkToNothing refuses, before any work, an output path on whose way
// a link to nothing stands: path itself, or the nearest of its parents that
// is there (value is the flag's value, flagName the flag). The final
// rename of a folder fails on such a link ("not a directory"), a mkdir
// under it says "file exists", and a file is written wherever it points:
// each after the work. Anything else there (a file, a folder that cannot
// be written in) is left to the checks that say it.
func refuseLinkToNothing(flagName, value, path string) error {
	for at := filepath.Clean(path); ; {
		fi, err := os.Lstat(at)
		if err == nil {
			if fi.Mode()&fs.ModeSymlink == 0 {
				return nil
			}
			if _, err := os.Stat(at); !errors.Is(err, fs.ErrNotExist) {
				return nil // it leads somewhere, or a loop, said by the write
			}
			target, err := os.Readlink(at)
			if err != nil {
				return nil
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(at), target)
			}
			return fmt.Errorf("--%s %s: %s is a link to %s, which does not exist: remove the link, or give another path", flagName, value, at, target)
		}
		up := filepath.Dir(at)
		if !errors.Is(err, fs.ErrNotExist) || up == at {
			return nil
		}
		at = up
	}
}

// refuseMountPoint refuses, before any work, a folder dir that is a mount
// point, where a folder staged beside it is to be renamed at the end
// (durable.StageDir): the system refuses that rename (EBUSY) after the
// work. instead says what to do. Where the system cannot tell
// (durable.IsMountPoint), or dir is absent, nothing is refused. A link to
// a mount point is refused as it, and said: the folder is written through
// the link, onto what it points to.
func refuseMountPoint(flagName, value, dir, instead string) error {
	if mount, err := durable.IsMountPoint(dir); err != nil || !mount {
		return nil
	}
	at := dir
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(dir); err == nil {
			at = fmt.Sprintf("%s (a link to %s)", dir, target)
		}
	}
	return fmt.Errorf("--%s %s: %s is a mount point: the folder is made beside it and renamed onto it at the end, which the system refuses for a mount point; %s", flagName, value, at, instead)
}

// saveModelFolder writes a model folder at dir whole or not at all (rlt
// train --save, rlt distill's student, rlt model init; rlt pretrain's
// through warmstart.Build): write fills a hidden staging folder beside dir,
// every file is synced and the folder renamed to dir (durable.StageDir;
// dir absent or empty). A dir that is a link to a folder is written
// through, the link kept: the files land where it points. A kill midway left a dir with model.safetensors
// and config.json but no tokenizer.json or prompts.json, which rlt model
// info accepted and a rerun refused as a model; now it leaves a hidden
// ".NAME.partial-PID@HOST-N", no model folder, removed by the next save to dir.
func saveModelFolder(dir string, write func(dir string) error) error {
	return durable.StageDir(dir, "nothing was written there", write)
}

// saveHeld runs save, the writing of the model folder dir, under the
// command's signal handler (ctx, of stopSignals), which holds a signal
// until the folder is whole: a model's Save takes no context, and the
// folder is written whole or not at all (saveModelFolder). A signal that
// comes while it writes, or came before it began, is said at once on
// stderr (runner.SaveNotice: in the words of a run's checkpoints), once, not only after the save, which takes
// minutes for a large model: the command seemed to ignore it. A second
// signal is held as the first was (ctx's handler stays registered until
// the command returns; rlt train's, stopThenLeave, until a second, so
// that a third ends it, no folder written): the save still ends whole,
// and the command then stops as it says.
func saveHeld(ctx context.Context, stderr io.Writer, dir string, save func() error) error {
	w := watchSave(ctx, stderr, dir)
	defer w.end()
	return save()
}

// saveWatch says a signal (ctx's end) that comes during a save on stderr,
// once, from when watchSave starts it until end returns; rlt pretrain's
// saves are within warmstart.BuildModel, so it starts one as the last
// step's progress is said, saveHeld around its own save.
type saveWatch struct{ done, ended chan struct{} }

func watchSave(ctx context.Context, stderr io.Writer, dir string) *saveWatch {
	return watchStop(ctx, stderr, runner.SaveNotice(dir))
}

// watchStop says notice on stderr, once, where ctx ends (a signal) from
// when it starts until end returns: what a command that is not cut short
// does before it stops, said at the signal, not once that work is done
// (a save's, rlt import's read of its source).
func watchStop(ctx context.Context, stderr io.Writer, notice string) *saveWatch {
	w := &saveWatch{done: make(chan struct{}), ended: make(chan struct{})}
	if ctx.Err() != nil { // the signal came before: said now, whatever the work's length
		fmt.Fprintln(stderr, notice)
		close(w.ended)
		return w
	}
	go func() {
		defer close(w.ended)
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr, notice)
		case <-w.done:
		}
	}()
	return w
}

// end stops w; once it returns, nothing more is written to stderr by it.
func (w *saveWatch) end() {
	close(w.done)
	<-w.ended
}

// refuseNotEmpty refuses, before any work, a model folder dir that exists
// and holds anything: the staged folder is renamed into place, which only
// an absent or empty folder allows.
func refuseNotEmpty(flagName, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return nil
	}
	return fmt.Errorf("--%s: %s holds %s: a model folder is written new or into an empty folder: choose another, or move its files away first", flagName, dir, entries[0].Name())
}

// refuseUnwritable says, before any work, that folder dir, where flag
// flagName's value puts its output, could not be made or written in: the
// nearest of it and its parents that exists is a file, a link to nothing
// (refuseLinkToNothing), or a folder this process cannot create files in.
// Hours of training or explaining are otherwise lost to a mkdir at the
// end. An output file's dir is its folder.
func refuseUnwritable(flagName, value, dir string) error {
	if err := refuseLinkToNothing(flagName, value, dir); err != nil {
		return err
	}
	at := filepath.Clean(dir)
	for {
		st, err := os.Stat(at)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("--%s %s: cannot be made: %s is a file, not a folder: choose another path", flagName, value, at)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) { // ENOTDIR: a file above it, found next
			return fmt.Errorf("--%s %s: %w: choose another path", flagName, value, err)
		}
		up := filepath.Dir(at)
		if up == at {
			break
		}
		at = up
	}
	f, err := os.CreateTemp(at, ".rlt-write-check-*")
	if err != nil {
		return fmt.Errorf("--%s %s: cannot write in %s (%w): choose another path", flagName, value, at, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// modelFile is the first file of a model (config.json, model.safetensors
// or its index) that dir holds at its top level, or "" (none, or no dir).
func modelFile(dir string) string {
	ff, err := hf.ScanFolder(dir)
	if err != nil {
		return ""
	}
	for _, f := range []string{ff.Config, ff.Weights, ff.WeightsIndex} {
		if f != "" {
			return f
		}
	}
	return ""
}

// reportSkipped says on w, one line each, what reading the run folder dir
// found wrong (a broken line, a label it does not know, a lost
// config.toml), the first maxSkippedLines of them: a count alone leaves the
// user to find them. total counts them all (a store keeps its first 1000:
// Store.IssueCount).
func reportSkipped(w io.Writer, dir string, issues []sessions.Issue, total int) {
	if total == 0 {
		return
	}
	broken := true
	for _, is := range issues {
		broken = broken && is.Kind == sessions.IssueBroken
	}
	if broken {
		fmt.Fprintf(w, "left out %s of the run:\n", plural(total, "unreadable record"))
	} else {
		fmt.Fprintf(w, "reading the run found %s:\n", plural(total, "problem"))
	}
	for i, is := range issues {
		if i == maxSkippedLines {
			break
		}
		fmt.Fprintf(w, "  %v\n", is)
	}
	if more := total - min(len(issues), maxSkippedLines); more > 0 {
		fmt.Fprintf(w, "  and %d more: "+sessions.Program()+" open %s, then !, lists them\n", more, sessions.ShellQuote(dir))
	}
}

// maxSkippedLines is how many of a run's problems a command lists.
const maxSkippedLines = 20

// loadTokenizer accepts tokenizer.json or the model folder that holds it.
// A folder without one is said for what it is: a run folder or a
// training checkpoint (hf.FolderFiles.NotAModel), a folder with no
// tokenizer.json, or a path that does not exist (a folder as a model
// folder's is said), not a file that could not be opened.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	switch st, err := os.Stat(path); {
	case err == nil && st.IsDir():
		return rlt.FolderTokenizer(path)
	case filepath.Base(path) == hf.TokenizerFile:
		return rlt.FolderTokenizer(filepath.Dir(path))
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist: give a tokenizer.json, or the model folder that holds one", path)
	}
	return tokenizer.Load(path)
}

// errLines says some input lines failed; each was reported in the output.
type errLines int

func (e errLines) Error() string {
	return fmt.Sprintf("%s failed (see their error records)", plural(int(e), "input line"))
}

// readApart reads stdin's lines in a goroutine of their own, so that a
// signal (ctx) that comes while stdin waits for input stops a command that
// reads it (eachJSONLine, rlt score): next gives each line, whether to send
// it (a read error after the last is sent, a clean end is not) and whether
// more may follow. The channel holds up to ahead lines read ahead and
// closes after the last, or once ctx is done.
func readApart[L any](ctx context.Context, ahead int, next func() (l L, send, more bool)) <-chan L {
	lines := make(chan L, ahead)
	go func() {
		defer close(lines)
		for {
			l, send, more := next()
			if send {
				select {
				case lines <- l:
				case <-ctx.Done():
					return
				}
			}
			if !more {
				return
			}
		}
	}()
	return lines
}

// nextLine is the next of readApart's lines: ok false after the last,
// stopped where a signal (ctx) came first, whatever was read ahead.
func nextLine[L any](ctx context.Context, lines <-chan L) (l L, ok, stopped bool) {
	select {
	case l, ok = <-lines:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		var none L
		return none, false, true
	}
	return l, ok, false
}

// eachJSONLine runs fn on every stdin line and writes its result as one
// JSON line: the Nth line of stdout answers the Nth of stdin. A failing
// line is written as {"line": N, "error": ...}, a blank one (spaces
// alone) among them, saying so: it was passed over, writing nothing, so
// each result after it stood a line above the input it answered. A
// leading byte-order mark is dropped; a line that is not UTF-8 fails,
// naming its first stray byte; one that is not JSON fails saying so, where
// it goes wrong and want, what a line is (`{"text": "…"}`), not in
// encoding/json's grammar ("invalid character 'o' in literal null").
// A signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP: stopSignals)
// stops it after the line in progress, with stdout
// holding the results of the lines before it whole (its buffer ended
// mid-line where the signal killed it), and says how far it got: stdin is
// read apart, so a signal that comes while it waits for input stops it too.
func eachJSONLine(in io.Reader, out io.Writer, want string, fn func(line []byte) (any, error)) error {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	type inputLine struct {
		text []byte
		err  error // stdin's, after the last line
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	lines := readApart(ctx, 64, func() (l inputLine, send, more bool) {
		if sc.Scan() {
			return inputLine{text: bytes.Clone(sc.Bytes())}, true, true
		}
		err := sc.Err()
		return inputLine{err: err}, err != nil, false
	})
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	failed, n := 0, 0
	for {
		l, ok, stopped := nextLine(ctx, lines)
		if stopped {
			if err := w.Flush(); err != nil {
				return err
			}
			return fmt.Errorf("stopped by a signal after %s: stdout holds the result of each whole; run it again on the lines after line %d to go on", plural(n, "input line"), n)
		}
		if !ok {
			break
		}
		if l.err != nil {
			return fmt.Errorf("reading stdin at line %d: %w", n+1, l.err)
		}
		n++
		line := l.text
		if n == 1 {
			line = record.TrimByteOrderMark(line)
		}
		var err error
		if len(bytes.TrimSpace(line)) == 0 {
			err = fmt.Errorf("line %d is blank: want one JSON object a line, such as %s", n, want)
		}
		if err == nil {
			err = record.CheckUTF8(line)
		}
		if err == nil {
			err = notJSON(n, line, want)
		}
		var res any
		if err == nil {
			res, err = fn(line)
		}
		if err != nil {
			failed++
			res = struct {
				Line  int    `json:"line"`
				Error string `json:"error"`
			}{n, err.Error()}
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return errLines(failed)
	}
	return nil
}

// notJSON says that line n, valid UTF-8, is not JSON, if it is not, in
// the words every JSON Lines reader shares (jsonerr.NotJSONLine).
func notJSON(n int, line []byte, want string) error {
	var v json.RawMessage
	if msg := jsonerr.NotJSONLine(line, json.Unmarshal(line, &v), want); msg != "" {
		return fmt.Errorf("line %d is %s", n, msg)
	}
	return nil
}

// reportPoolAnomalies tells of piece completions the worker pool had to
// ignore: the results are unaffected, but the cause would be a bug to find.
func reportPoolAnomalies(w io.Writer) {
	if n := parallel.StrayFinishes(); n > 0 {
		fmt.Fprintf(w, "note: the worker pool ignored %d stray piece completions (please report)\n", n)
	}
}

// isTerminal reports whether a command's stdin, stdout or stderr is a
// terminal, by isatty: /dev/null is a character device too, and taking it for
// a terminal drew the workbench into nothing (rlt </dev/null >/dev/null) and
// would write progress lines or Parquet bytes where no person reads them.
func isTerminal(stream any) bool { return style.IsTerminal(stream) }

func humanCount(n int) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
