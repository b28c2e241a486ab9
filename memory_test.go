package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run or a scoring that cannot fit the memory there is is refused before
// anything is loaded or written, with the numbers and what to change.
func TestRefusesWhatCannotFit(t *testing.T) {
	t.Setenv("RLT_MEMORY_LIMIT", "100MB")
	runs := filepath.Join(t.TempDir(), "runs")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--headless", "--steps", "1", "--runs", runs}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"needs about", "100 MB available (RLT_MEMORY_LIMIT)", "grpo.micro_batch", "grpo.max_new_tokens"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, stderr.String())
		}
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s behind (stat: %v)", runs, err)
	}
}
