package model

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestLoadWithTakesTheConfigItIsGiven: LoadWith builds the model from the
// config.json its caller read (InspectFolder's HF, as rlt serve reads it
// before its checks), not from a read of its own: with the file then
// made no JSON, LoadAs refuses it and LoadWith loads the model Inspect
// described.
func TestLoadWithTakesTheConfigItIsGiven(t *testing.T) {
	be := compute.NewCPU()
	src, err := NewRandom(be, smallConfig(true), 5)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := src.Save(dir, hf.F32); err != nil {
		t.Fatal(err)
	}
	in, err := InspectFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hf.ConfigFile), []byte("not JSON"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAs(context.Background(), be, dir, Float32); err == nil {
		t.Fatal("LoadAs read a config.json that is no JSON")
	}
	m, err := LoadWith(context.Background(), be, dir, in.HF, Float32)
	if err != nil {
		t.Fatal(err)
	}
	if m.Cfg != in.Cfg {
		t.Errorf("loaded %+v, inspected %+v", m.Cfg, in.Cfg)
	}
}
