package report

import (
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestReportSaysEachRunsLambda: a sweep of λ (reward.kl_mean) is told
// apart on the page by each run's λ, in the run table always and in the
// charts' legend where the runs' differ, as the dashboard's comparison
// legend says it. The page named the runs by their folders alone (times,
// for rlt run's), so three runs of λ 0, 3 and 9 read alike.
func TestReportSaysEachRunsLambda(t *testing.T) {
	const atDefault = "λ=3 (kl_mean at its default)"
	for _, c := range []struct {
		name    string
		configs []string // each run's config.toml
		cells   []string // its λ cell in the run table
		legend  bool     // the legend names each run's λ
	}{
		{"a sweep", []string{"[reward]\nkl_mean = 0.0\n", "[reward]\nkl_mean = 3.0\n", "[reward]\nkl_mean = 9.0\n"},
			[]string{"λ=0", "λ=3", "λ=9"}, true},
		{"one λ", []string{"[reward]\nkl_mean = 3.0\n", "[reward]\nkl_mean = 3.0\n"},
			[]string{"λ=3", "λ=3"}, false},
		{"kl_mean left out", []string{"[reward]\nkl_max = 0.5\n", "[reward]\nkl_mean = 1.5\n"},
			[]string{atDefault, "λ=1.5"}, true},
		{"a config.toml that does not decode", []string{"[reward\n", "[reward]\nkl_mean = 3.0\n"},
			[]string{"λ=?", "λ=3"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			var dirs []string
			for i, cfg := range c.configs {
				dir := filepath.Join(root, string(rune('a'+i)))
				makeRun(t, dir, 2, 1, 1)
				if err := os.WriteFile(filepath.Join(dir, sessions.ConfigFile), []byte("task = 'addition'\n"+cfg), 0o644); err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, dir)
			}
			page := renderPage(t, dirs, DefaultSelection)
			if !strings.Contains(page, "<th>r_KL's weight</th>") {
				t.Errorf("the run table has no r_KL's weight column:\n%s", page[:min(len(page), 2000)])
			}
			legend, _, _ := strings.Cut(page[strings.Index(page, `<p class="legend">`):], "</p>")
			for i, want := range c.cells {
				name := string(rune('a' + i))
				_, row, _ := strings.Cut(page, "<bdi>"+name+"</bdi></td><td><bdi>"+dirs[i]+"</bdi></td>")
				row, _, _ = strings.Cut(row, "</tr>")
				if !strings.HasSuffix(row, "<td>"+want+"</td>") {
					t.Errorf("run %s: its row in the run table ends %q, want its λ cell <td>%s</td>", name, row, want)
				}
				named := strings.Contains(legend, "<bdi>"+name+"</bdi> "+want)
				if named != c.legend {
					t.Errorf("run %s named with %q in the legend: %v, want %v: %s", name, want, named, c.legend, legend)
				}
				// Each chart's legend too: it named the run alone, so a
				// chart read apart from the page's legend lost the λ.
				inChart := strings.Contains(page, `fill="#222">`+html.EscapeString(name+" "+want)+"</text>")
				if inChart != c.legend {
					t.Errorf("run %s named with %q in a chart's legend: %v, want %v", name, want, inChart, c.legend)
				}
			}
		})
	}
}
