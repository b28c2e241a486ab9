package hf

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests below run only when RLT_HF_QWEN05B_DIR names a directory (see
// testdata/make_qwen05b.sh): the first writes a synthetic BF16 checkpoint
// with Qwen2.5-0.5B's shapes there, the second reads every tensor into
// float32 buffers and reports the peak resident set size against the size
// of those buffers.

func qwen05BConfig() Config {
	return Config{ModelType: "qwen2", Architectures: []string{"Qwen2ForCausalLM"}, VocabSize: 151936,
		HiddenSize: 896, IntermediateSize: 4864, NumHiddenLayers: 24, NumAttentionHeads: 14, NumKeyValueHeads: 2,
		MaxPositionEmbeddings: 32768, RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, QKVBias: true,
		HiddenAct: "silu", TorchDType: "bfloat16", BOSTokenID: []int{151643}, EOSTokenID: []int{151643}}
}

func bigDir(t *testing.T) string {
	dir := os.Getenv("RLT_HF_QWEN05B_DIR")
	if dir == "" {
		t.Skip("set RLT_HF_QWEN05B_DIR to run (testdata/make_qwen05b.sh)")
	}
	return dir
}

func TestQwen05BWrite(t *testing.T) {
	dir := bigDir(t)
	c := qwen05BConfig()
	if err := c.Write(filepath.Join(dir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	var ts []NamedTensor
	var n int
	for _, s := range Qwen2Tensors(c) {
		numel, _ := numElements(s.Shape, 1<<62)
		d := make([]float32, numel)
		for i := range d {
			d[i] = float32(r.NormFloat64()) * 0.02
		}
		ts = append(ts, NamedTensor{s.Name, s.Shape, d})
		n += len(d)
	}
	start := time.Now()
	if err := WriteSafetensors(filepath.Join(dir, WeightsFile), ts, BF16, nil); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	t.Logf("wrote %d tensors, %d parameters, %.1f MB BF16 in %v (%.0f MB/s incl. fsync)",
		len(ts), n, float64(2*n)/1e6, el.Round(time.Millisecond), float64(2*n)/1e6/el.Seconds())
}

func TestQwen05BRead(t *testing.T) {
	dir := bigDir(t)
	start := time.Now()
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	fo, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	if err := fo.CheckQwen2(c); err != nil {
		t.Fatal(err)
	}
	rssBefore := vmHWM(t)
	weights := map[string][]float32{}
	var f32Bytes, fileBytes int64
	for _, s := range Qwen2Tensors(c) {
		ti, _ := fo.Tensor(s.Name)
		d := make([]float32, ti.NumElements())
		if err := fo.ReadFloat32(s.Name, d); err != nil {
			t.Fatal(err)
		}
		weights[s.Name] = d
		f32Bytes += int64(4 * len(d))
		fileBytes += ti.Bytes()
	}
	el := time.Since(start)
	peak := vmHWM(t)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("read %d tensors: %.1f MB of BF16 into %.1f MB of float32 in %v (%.0f MB/s of file data)",
		len(weights), float64(fileBytes)/1e6, float64(f32Bytes)/1e6, el.Round(time.Millisecond), float64(fileBytes)/1e6/el.Seconds())
	t.Logf("peak RSS (VmHWM) %.1f MB = %.3f x the float32 weights; RSS before reading %.1f MB; Go heap in use %.1f MB, runtime Sys %.1f MB",
		float64(peak)/1e6, float64(peak)/float64(f32Bytes), float64(rssBefore)/1e6, float64(ms.HeapInuse)/1e6, float64(ms.Sys)/1e6)
	if float64(peak) > 1.10*float64(f32Bytes) {
		t.Errorf("peak RSS %.1f MB exceeds the float32 weights (%.1f MB) by more than 10%%", float64(peak)/1e6, float64(f32Bytes)/1e6)
	}
	runtime.KeepAlive(weights)
}

// vmHWM is the process's peak resident set size in bytes (Linux).
func vmHWM(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	t.Skip("no VmHWM")
	return 0
}
