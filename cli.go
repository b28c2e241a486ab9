package main

// The helpers every subcommand shares: flags and usage, the exit errors,
// JSON Lines in and out, tokenizer loading, terminal detection and
// human-readable sizes.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// errUsage means the usage text was already printed for a wrong call;
// errHelp means it was printed because it was asked for.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, strings.TrimLeft(usage, "\n"))
		if hasFlags(fs) {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}

// loadTokenizer accepts tokenizer.json or the model folder that holds it.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = path + string(os.PathSeparator) + "tokenizer.json"
	}
	return tokenizer.Load(path)
}

// errLines says some input lines failed; each was reported in the output.
type errLines int

func (e errLines) Error() string {
	return fmt.Sprintf("%d input lines failed (see their error records)", int(e))
}

// eachJSONLine runs fn on every non-blank stdin line and writes its result
// as one JSON line; a failing line is written as {"line": N, "error": ...}.
func eachJSONLine(in io.Reader, out io.Writer, fn func(line []byte) (any, error)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	failed, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		res, err := fn(line)
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
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading stdin at line %d: %w", n+1, err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return errLines(failed)
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

// isTerminal reports whether r or w is a character device (a terminal).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

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

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// describeTokenizer says what tokenizer and chat template a folder has, and
// whether the tokenizer fits the embedding.
