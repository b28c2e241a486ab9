package sessions

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/rlt-workbench/rlt/engine/record"
)

// exportBoth exports the fixture's and traceVariants' traces (escapes,
// texts that are not UTF-8, a cut explanation), all accepted, as
// --format messages rows and as Parquet.
func exportBoth(t *testing.T) (msgs, pq []byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("testdata", "prev-format", "grpo"), dir)
	var lines []byte
	for _, tr := range traceVariants() {
		lines = append(appendTrace(lines, tr), '\n')
	}
	if err := os.WriteFile(traceFileName(dir, 3), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	listed, _ := r.Store().TracesSince(0)
	for _, tr := range listed {
		if err := r.Review(tr.ID, LabelAccept, ""); err != nil {
			t.Fatal(err)
		}
	}
	var m, p bytes.Buffer
	mrep, err := r.Export(&m, ExportMessages)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := r.Export(&p, ExportParquet)
	if err != nil || prep.Written != mrep.Written || prep.Written < 2 {
		t.Fatalf("parquet: %+v, %v; messages wrote %d", prep, err, mrep.Written)
	}
	return m.Bytes(), p.Bytes()
}

// jsonValues decodes JSON Lines into values, compared as values: JSON's
// escapes may differ between writers.
func jsonValues(t *testing.T, lines []byte) []any {
	t.Helper()
	var vs []any
	for _, b := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("row %s: %v", b, err)
		}
		vs = append(vs, v)
	}
	return vs
}

func sameValues(t *testing.T, who string, got, want []any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s read %d rows, not the %d messages rows (first difference at byte %d):\n%.3000s", who, len(got), len(want), firstDiff(g, w), g)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestExportParquetHoldsTheMessagesRowsTexts: the Parquet export's rows
// are the --format messages rows, their texts UTF-8: a text that is not
// (a trace's explanation cut mid-character) went into the STRING column
// as its raw bytes, where the JSON rows carry a U+FFFD for each byte.
func TestExportParquetHoldsTheMessagesRowsTexts(t *testing.T) {
	msgs, pq := exportBoth(t)
	rows, err := parquet.Read[chatRow](bytes.NewReader(pq), int64(len(pq)))
	if err != nil {
		t.Fatal(err)
	}
	var lines []byte
	for _, r := range rows {
		var turns []map[string]string
		for _, m := range r.Messages {
			if !utf8.ValidString(m.Content) {
				t.Errorf("a %s turn of the Parquet file is not UTF-8: %q", m.Role, m.Content)
			}
			turns = append(turns, map[string]string{"role": m.Role, "content": m.Content})
		}
		b, err := json.Marshal(map[string]any{"messages": turns})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	sameValues(t, "parquet-go", jsonValues(t, lines), jsonValues(t, msgs))
}

// TestExportParquetReadByAnotherReader: the Parquet export, read by a
// reader that is not parquet-go (hyparquet, pure JavaScript, under node),
// gives the rows --format messages writes, each a list of {role, content}:
// what pandas.read_parquet hands verl. It needs node and RLT_HYPARQUET, a
// folder whose node_modules holds hyparquet (npm install hyparquet@1.33.0
// there), and skips without them: the repository takes no Node dependency.
func TestExportParquetReadByAnotherReader(t *testing.T) {
	mods := os.Getenv("RLT_HYPARQUET")
	node, err := exec.LookPath("node")
	if mods == "" || err != nil {
		t.Skip("needs node and RLT_HYPARQUET (a folder with node_modules/hyparquet)")
	}
	entry := filepath.Join(mods, "node_modules", "hyparquet", "src", "node.js")
	if _, err := os.Stat(entry); err != nil {
		t.Fatalf("RLT_HYPARQUET=%s: %v", mods, err)
	}
	msgs, pq := exportBoth(t)
	file := filepath.Join(t.TempDir(), "sft.parquet")
	if err := os.WriteFile(file, pq, 0o644); err != nil {
		t.Fatal(err)
	}
	const script = `const { asyncBufferFromFile, parquetReadObjects } = await import(process.argv[1])
const rows = await parquetReadObjects({ file: await asyncBufferFromFile(process.argv[2]) })
for (const r of rows) console.log(JSON.stringify(r))`
	out, err := exec.Command(node, "--input-type=module", "-e", script, entry, file).Output()
	if err != nil {
		t.Fatalf("hyparquet: %v", err)
	}
	sameValues(t, "hyparquet", jsonValues(t, out), jsonValues(t, msgs))
}

// TestExportParquetWithoutASystemPrompt: the Parquet rows' turns are the
// messages rows' for an empty system prompt too, [user, assistant] with
// no system turn (record.MessagesTurns), which both wrote as
// {role: system, content: ""}: an empty system block in the chat template
// in place of the tokenizer's default system prompt.
func TestExportParquetWithoutASystemPrompt(t *testing.T) {
	for _, system := range []string{"", "Solve: thought, then solution."} {
		var m, p bytes.Buffer
		pm := newParquetMessages(&p, system)
		for _, w := range []interface {
			Write(q, e, s string) error
		}{record.NewMessagesWriter(&m, system), pm} {
			if err := w.Write("2+3=?", "Add 2 and 3.", "5"); err != nil {
				t.Fatal(err)
			}
		}
		if err := pm.Close(); err != nil {
			t.Fatal(err)
		}
		rows, err := parquet.Read[chatRow](bytes.NewReader(p.Bytes()), int64(p.Len()))
		if err != nil || len(rows) != 1 {
			t.Fatalf("system %q: read %d rows: %v", system, len(rows), err)
		}
		var roles []string
		turns := []map[string]string{}
		for _, tn := range rows[0].Messages {
			roles = append(roles, tn.Role)
			turns = append(turns, map[string]string{"role": tn.Role, "content": tn.Content})
		}
		want := "system user assistant"
		if system == "" {
			want = "user assistant"
		}
		if got := strings.Join(roles, " "); got != want {
			t.Errorf("system %q: the Parquet row's turns are %s, want %s", system, got, want)
		}
		b, _ := json.Marshal(map[string]any{"messages": turns})
		sameValues(t, "parquet-go", jsonValues(t, b), jsonValues(t, m.Bytes()))
	}
}
