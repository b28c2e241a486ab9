package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/sessions"
)

// A configuration's relative path that names nothing from the working
// directory but names what is beside the configuration file says so, and
// what to write: a configuration kept in its own folder beside its data,
// run from another, was refused as 'data train.jsonl: file does not exist'
// alone. A path that names nothing beside it either is said as before.
func TestPathBesideTheConfigurationSaysSo(t *testing.T) {
	root := t.TempDir()
	models := hftest.StubModels(t, filepath.Join(root, "models"))
	exp := filepath.Join(root, "exp")
	if err := os.MkdirAll(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exp, "train.jsonl"), []byte(`{"question": "What is 2 + 3?", "solution": "5"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	file := filepath.Join("exp", "run.toml")
	for _, c := range []struct {
		name, key, value, want string
	}{
		{"data beside it", "data", "train.jsonl", "; a configuration's paths are read from the working directory (" + root + "), not from its file's folder, and " +
			filepath.Join("exp", "train.jsonl") + " is there, beside " + file + ": write data = '" + filepath.Join("exp", "train.jsonl") + "', or an absolute path"},
		{"eval_data beside it", "eval_data", "train.jsonl", "write eval_data = '" + filepath.Join("exp", "train.jsonl") + "'"},
		{"a teacher beside it", "teacher", "../models/teacher", "write teacher = '" + filepath.Join("exp", "..", "models", "teacher") + "'"},
		{"a teacher nowhere", "teacher", "teach", ""},
		{"data nowhere", "data", "gone.jsonl", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(models, 1)
			text := "task = 'jsonl'\ndata = '" + filepath.Join(root, "exp", "train.jsonl") + "'\n"
			switch c.key {
			case "data":
				text = "task = 'jsonl'\ndata = '" + c.value + "'\n"
			case "eval_data":
				text += "eval_data = '" + c.value + "'\n"
			case "teacher":
				text += "teacher = '" + c.value + "'\n"
			}
			decodeErr := sessions.DecodeStrict(file, []byte(text), &cfg)
			if decodeErr != nil {
				t.Fatal(decodeErr)
			}
			_, err := CheckFile(cfg, file, []byte(text), nil, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if c.want == "" {
				if strings.Contains(err.Error(), "paths are read from the working directory") {
					t.Errorf("%v\nsays the path is beside the file", err)
				}
				return
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v\nwant it to say %q", err, c.want)
			}
		})
	}
}
