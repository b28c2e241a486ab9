package sessions

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRecordPathLinksNoModel: the run folder reads and writes scored
// explanations through engine/record, so sessions links no model, no
// method and no compute package (go list -deps).
func TestRecordPathLinksNoModel(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/rlt-workbench/rlt/"
	for _, p := range strings.Fields(string(out)) {
		rel, ours := strings.CutPrefix(p, mod)
		if !ours {
			continue
		}
		for _, heavy := range []string{"compute", "engine/rlt", "engine/task", "engine/model", "engine/sample", "engine/run", "engine/warmstart", "engine/tokenizer"} {
			if rel == heavy || strings.HasPrefix(rel, heavy+"/") {
				t.Errorf("sessions links %s", p)
			}
		}
	}
}
