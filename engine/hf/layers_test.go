package hf

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckLayersShardedAndExtras: the layer count is read from a sharded
// checkpoint's index as from one file, and tensors that are no decoder
// layer's (a vision tower's blocks, an MTP head, a layer's stray buffer)
// neither count as layers nor refuse a checkpoint whose layers are the
// config's. One layer out is named as one ("layer 1"), not "layers 1 to 1".
func TestCheckLayersShardedAndExtras(t *testing.T) {
	c := tinyConfig() // 2 layers
	extras := []NamedTensor{
		{"visual.blocks.7.attn.weight", []int{2}, []float32{1, 2}},
		{"mtp.layers.5.weight", []int{2}, []float32{1, 2}},
		{"model.layers.1.self_attn.rotary_emb.inv_freq", []int{2}, []float32{1, 2}},
		{"model.layers_extra.9.weight", []int{2}, []float32{1, 2}},
	}
	for _, tc := range []struct {
		name   string
		layers int
		want   string
	}{
		{"the checkpoint's", 2, ""},
		{"fewer", 1, "num_hidden_layers is 1, but DIR/" + IndexFile + " holds 2 layers (model.layers.0 to model.layers.1): the model would compute with its first 1 and leave out layer 1;"},
		{"more", 3, "the load would find no weights for layer 2;"},
		{"far more", 5, "the load would find no weights for layers 2 to 4;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := WriteSafetensorsSharded(dir, append(tinyTensors(c), extras...), F32, nil, 600); err != nil {
				t.Fatal(err)
			}
			fo, err := OpenFolder(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer fo.Close()
			if fo.Files.WeightsIndex == "" {
				t.Fatal("not sharded")
			}
			cc := c
			cc.NumHiddenLayers = tc.layers
			err = fo.CheckQwen2(cc)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckQwen2: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Join(dir, ConfigFile)+": ") {
				t.Fatalf("CheckQwen2: %v\nwant %q", err, want)
			}
		})
	}
}
