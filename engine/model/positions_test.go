package model

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestRefusalsPastThePositions: the model's own refusals of a sequence
// past its positions, a forward's and a KV cache's, read as every such
// refusal does (PositionsError): the model, by its folder where it was
// loaded from one, what did not fit and its tokens, by how much, its
// positions with their key, and what to do. They said "model: sequence
// of 10 tokens is longer than max_position_embeddings 8" and "kv cache:
// length 9 is beyond max_position_embeddings 8", neither naming the model
// nor saying what to do. A sequence that fits is no error; one that must
// leave a position for what follows says that it leaves none where it
// fills them.
func TestRefusalsPastThePositions(t *testing.T) {
	be := compute.NewCPU()
	cfg := smallCheckpointConfig()
	cfg.MaxPos = 8
	inMemory, err := NewRandom(be, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := inMemory.Save(dir, hf.F32); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(be, dir)
	if err != nil {
		t.Fatal(err)
	}
	forward := func(m *Model, tokens int) func() error {
		return func() error {
			tp := compute.NewTape(be)
			tp.SetRecording(false)
			m.Hidden(tp, &Batch{B: 2, T: tokens, Tokens: make([]int32, 2*tokens)})
			return tp.Err()
		}
	}
	cache := func(m *Model, tokens int) func() error {
		return func() error { _, err := m.NewCache(2, tokens); return err }
	}
	said := func(tokens int, leave string) func() error {
		return func() error {
			return &PositionsError{Model: Name("teacher", "/models/t"), What: "its prompt", Tokens: tokens, Positions: 8, Leave: leave, Do: "give a prompt of at most 7 tokens"}
		}
	}
	for _, c := range []struct {
		name string
		err  func() error
		want string // "" for none
	}{
		{"a forward past them", forward(inMemory, 10),
			"the model: a sequence of the batch takes 10 tokens, 2 more than its 8 positions (max_position_embeddings): give sequences of at most 8 tokens"},
		{"a forward past them, named by its folder", forward(loaded, 9),
			"the model " + dir + ": a sequence of the batch takes 9 tokens, 1 more than its 8 positions (max_position_embeddings): give sequences of at most 8 tokens"},
		{"a forward that fills them", forward(loaded, 8), ""},
		{"a cache past them", cache(inMemory, 9),
			"the model: a KV cache takes 9 tokens, 1 more than its 8 positions (max_position_embeddings): make a cache of at most 8 tokens"},
		{"a cache past them, named by its folder", cache(loaded, 12),
			"the model " + dir + ": a KV cache takes 12 tokens, 4 more than its 8 positions (max_position_embeddings): make a cache of at most 8 tokens"},
		{"a cache that fills them", cache(loaded, 8), ""},
		{"past them, where it must leave a position", said(9, "an explanation"),
			"the teacher /models/t: its prompt takes 9 tokens, 2 more than fit in its 8 positions (max_position_embeddings) beside an explanation: give a prompt of at most 7 tokens"},
		{"filling them, where it must leave a position", said(8, "an explanation"),
			"the teacher /models/t: its prompt takes 8 tokens, which leaves no room for an explanation in its 8 positions (max_position_embeddings): give a prompt of at most 7 tokens"},
	} {
		err := c.err()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want none", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
	}
}
