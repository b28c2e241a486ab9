// Package hftest makes model folders for tests of the code that checks
// them without loading them.
package hftest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// StubFolder makes dir (and its parents) hold the files a model folder
// needs (hf.FolderFiles.Check: config.json, model.safetensors,
// tokenizer.json), empty: what checking a configuration looks for before
// any model loads. It returns dir.
func StubFolder(tb testing.TB, dir string) string {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, f := range []string{hf.ConfigFile, hf.WeightsFile, hf.TokenizerFile} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// StubModels makes models/teacher and models/student stub folders
// (StubFolder), as a models folder of the embedded defaults is laid out.
// It returns models.
func StubModels(tb testing.TB, models string) string {
	tb.Helper()
	StubFolder(tb, filepath.Join(models, "teacher"))
	StubFolder(tb, filepath.Join(models, "student"))
	return models
}
