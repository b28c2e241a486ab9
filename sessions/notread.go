package sessions

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// The words of a run's traces that could not be read, with what to do,
// one owner for every command that reads a run's traces (rlt export, rlt
// score --run) and the workbench's export: a broken record may be mended;
// a trace cut short with its file cannot, only put back.

// notReadLinesShown is how many lines of each trace file UnreadableSaid
// names, and tornShown how many partial last lines TornSaid names.
const (
	notReadLinesShown = 10
	tornShown         = 20
)

// UnreadableSaid says the n trace records of the run that could not be read
// (the store's broken records in its trace files), the lines of each file
// as a note names them (jsonerr.Lines), what the caller did not do with
// them (left: rlt export's "left out", rlt score's "not scored"), and what
// to do.
func (r *Run) UnreadableSaid(n int, left string) string {
	traces := filepath.Join(r.Dir(), TracesDir)
	var files []string
	lines := map[string][]int{}
	count := map[string]int{}
	named := 0
	for _, is := range r.store.Issues() {
		if is.Kind != IssueBroken || filepath.Dir(is.File) != traces {
			continue
		}
		if _, ok := count[is.File]; !ok {
			files = append(files, is.File)
		}
		count[is.File]++
		if len(lines[is.File]) < notReadLinesShown {
			lines[is.File] = append(lines[is.File], is.Line)
		}
		named++
	}
	where := make([]string, len(files))
	for i, f := range files {
		where[i] = f + " " + jsonerr.Lines(lines[f], count[f])
	}
	if more := n - named; more > 0 {
		where = append(where, fmt.Sprintf("and %d more", more))
	}
	return fmt.Sprintf("%s of %s could not be read and %s %s (%s): mend or remove %s in %s",
		Counted(n, "trace record", "trace records"), r.Dir(), OneOrMany(n, "was", "were"), left, strings.Join(where, "; "), OneOrMany(n, "that line", "those lines"), traces)
}

// LostTracesSaid says the traces of the run in dir that were cut short in
// their files' partial last lines after the run wrote them whole (not a
// killed writer's last), what the caller did not do with them (left), and
// what to do: they cannot be mended, only put back.
func LostTracesSaid(dir string, lost []TornTrace, left string) string {
	n := len(lost)
	return fmt.Sprintf("%s of %s %s cut short after the run wrote %s whole (%s), and %s %s: put the %s back from a copy of the run folder if there is one",
		Counted(n, "trace", "traces"), dir, OneOrMany(n, "was", "were"), OneOrMany(n, "it", "them"), TornSaid(lost), OneOrMany(n, "was", "were"), left, OneOrMany(n, "file", "files"))
}

// TornSaid names the partial last lines of torn trace files (TornTrace's
// words), the first tornShown of them.
func TornSaid(torn []TornTrace) string {
	var parts []string
	for i, tt := range torn {
		if i == tornShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(torn)-i))
			break
		}
		parts = append(parts, tt.String())
	}
	return strings.Join(parts, ", ")
}

// Counted is "1 one" or "N many".
func Counted(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, OneOrMany(n, one, many))
}

// OneOrMany is one where n is 1, else many: a word that agrees with a
// count said apart from it ("was"/"were", "it"/"them").
func OneOrMany(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
