package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/size"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/sessions"
)

const modelUsage = `
Usage: rlt model <defaults|init|info> ...

  defaults  write the embedded default teacher and student (what rlt run trains) as model folders
  init      write a randomly initialised Hugging Face model folder of any Qwen2 shape
  info      show a model folder's shapes, parameter count, dtype, files and memory needs

Examples:
  rlt model defaults --out /tmp/defaults      # the models the other commands' examples use
  rlt model init --config /tmp/defaults/student/config.json --out /tmp/tiny
  rlt model info /tmp/tiny
`

func runModel(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return subcommandMisuse(stderr, "rlt model", modelUsage, args, "defaults", "init", "info")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, strings.TrimLeft(modelUsage, "\n"))
		return errHelp
	}
	switch args[0] {
	case "init":
		return subcommand("rlt model init", runModelInit(args[1:], stdin, stdout, stderr))
	case "info":
		return subcommand("rlt model info", runModelInfo(args[1:], stdin, stdout, stderr))
	case "defaults":
		return subcommand("rlt model defaults", runModelDefaults(args[1:], stdin, stdout, stderr))
	}
	return subcommandMisuse(stderr, "rlt model", modelUsage, args, "defaults", "init", "info")
}

const modelDefaultsUsage = `
Usage: rlt model defaults --out DIR

Writes the embedded default models, DIR/teacher and DIR/student: the tiny
Qwen2 teacher and student warm-started on the addition task that rlt run
(the workbench) trains, with their tokenizer and prompts. They are what
rlt pretrain --out DIR --seed 1 makes, without its minutes of training,
and the folder the other commands' examples call /tmp/defaults.

Example:
  rlt model defaults --out /tmp/defaults
  rlt generate --model /tmp/defaults/student --system "Solve: thought, then solution." --prompt "347+285=?" --chat --temperature 0
`

func runModelDefaults(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt model defaults", modelDefaultsUsage, stdout, stderr)
	out := fs.String("out", "", "folder to write (required; created if missing, or empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := refuseOverwrite("out", *out, nil, []string{"."}); err != nil {
		return err
	}
	room := sessions.FullDiskError{What: "the pair of default models", Dir: *out, Need: defaults.Size(), Flag: "--out", Names: "folder"}
	if err := room.Check(); err != nil {
		return err
	}
	if err := saveModelFolder(*out, defaults.WriteModels); err != nil {
		return room.IfFull(err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s: the embedded default teacher and student, which "+sessions.Program()+" run trains\n",
		filepath.Join(*out, defaults.Teacher), filepath.Join(*out, defaults.Student))
	return nil
}

const modelInitUsage = `
Usage: rlt model init --config FILE --out DIR [--seed N] [--dtype f32|bf16] [--tokenizer FILE]

Writes a Qwen2-style model folder (config.json, model.safetensors) with weights
drawn from N(0, 0.02²), norms 1 and biases 0, as Qwen2's initialiser does.
FILE is a Hugging Face config.json; keys it leaves out take Qwen2's defaults.

Example:
  rlt model init --config /tmp/defaults/student/config.json --out /tmp/tiny-bf16 --dtype bf16 --seed 2
`

func runModelInit(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt model init", modelInitUsage, stdout, stderr)
	cfgPath := fs.String("config", "", "Hugging Face config.json describing the shape (required)")
	out := fs.String("out", "", "folder to write (required; created if missing)")
	seed := fs.Uint64("seed", 1, "random seed")
	dtype := fs.String("dtype", "f32", "weights dtype: f32 or bf16")
	tok := fs.String("tokenizer", "", "tokenizer.json to copy into the folder, or the model folder that holds one (optional; checked before anything is written)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "config", "out"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	dt, err := parseDType(*dtype)
	if err != nil {
		return badValue(fs, "%v", err)
	}
	if err := refuseOverwrite("out", *out, nil, []string{"."}); err != nil {
		return err
	}
	// Every input is checked before anything is written: a bad one leaves
	// --out as it was, and the corrected call is not refused for it.
	if _, err := os.Stat(*cfgPath); errors.Is(err, os.ErrNotExist) { // not "model folder DIR does not exist"
		return fmt.Errorf("--config %s: no such file: give a Hugging Face config.json describing the shape (a model folder's, or one you write)", *cfgPath)
	}
	// A folder is read for its config.json alone: not what a model
	// folder lacks besides (weights, a tokenizer), which init does not read.
	if st, err := os.Stat(*cfgPath); err == nil && st.IsDir() {
		if _, err := os.Stat(filepath.Join(*cfgPath, hf.ConfigFile)); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--config %s: a folder with no %s: give a Hugging Face config.json describing the shape (a model folder's, or one you write)", *cfgPath, hf.ConfigFile)
		}
	}
	hc, err := hf.LoadConfig(*cfgPath)
	if err != nil {
		return fmt.Errorf("--config: %w", err) // "load config FILE: …" names the file
	}
	cfg, err := model.ConfigFromHF(hc)
	if err != nil {
		return fmt.Errorf("--config %s: %w", *cfgPath, err)
	}
	var tokData []byte
	if *tok != "" {
		if tokData, err = readTokenizerFlag(*tok, cfg.Vocab); err != nil {
			return err
		}
	}
	// A disk without room for the weights is said before any is written:
	// they are drawn a chunk at a time whatever the size, so a shape of
	// terabytes filled the disk (17 GB a minute here) before its write
	// failed.
	room := sessions.FullDiskError{What: "the model", Dir: *out, Need: initFolderSize(cfg, dt, int64(len(tokData))), Flag: "--out", Names: "folder"}
	if err := room.Check(); err != nil {
		return err
	}
	// Drawn and written a chunk at a time: a few MB of memory whatever the
	// size, the same numbers as model.NewRandom draws. A signal (Ctrl-C,
	// SIGTERM, a closed terminal's SIGHUP: stopSignals) stops it within a
	// chunk and removes what was written (the staging folder): it was
	// killed, leaving a hidden folder of gigabytes until the next save to
	// --out.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	fmt.Fprintf(stderr, "drawing %s parameters (%s) into %s\n", humanCount(cfg.NumParams()), dt, *out)
	var params int
	err = saveModelFolder(*out, func(out string) error {
		var err error
		params, err = model.WriteRandom(ctx, out, hc, *seed, dt)
		if err != nil {
			return err
		}
		return writeInitSideFiles(out, *tok, tokData, *cfgPath)
	})
	if err != nil && ctx.Err() != nil { // a signal after the folder was put in place stops nothing
		return fmt.Errorf("stopped by a signal while drawing the weights: nothing was written to %s; to make the model, run the same command again", *out)
	}
	if err != nil {
		return room.IfFull(err)
	}
	fmt.Fprintf(stdout, "wrote %s: %s parameters, %s\n", *out, humanCount(params), dt) // F32 or BF16, as safetensors names it, however --dtype spelled it
	return nil
}

// initFolderSize is about the room rlt model init's folder takes: cfg's
// parameters in dt, the tokenizer (tokenizer bytes) and the folder's
// JSON and header (sessions.ModelFolderSize of no parameter).
func initFolderSize(cfg model.Config, dt hf.DType, tokenizer int64) int64 {
	return int64(cfg.NumParams())*int64(dt.Size()) + sessions.ModelFolderSize(0, tokenizer)
}

// writeInitSideFiles writes beside rlt model init's weights the tokenizer
// (tokData, read from tok) with its side files, and the generation config
// of the model folder cfgPath names.
func writeInitSideFiles(out, tok string, tokData []byte, cfgPath string) error {
	if tokData != nil {
		if err := durable.WriteFile(filepath.Join(out, hf.TokenizerFile), tokData, 0o644); err != nil {
			return fmt.Errorf("copy tokenizer: %w", err)
		}
		// The chat template and special tokens beside the tokenizer.json.
		if isDir(tok) || filepath.Base(tok) == hf.TokenizerFile {
			if err := hf.CopyFiles(folderOf(tok), out, hf.TokenizerSideFiles...); err != nil {
				return err
			}
		}
	}
	if filepath.Base(cfgPath) == hf.ConfigFile || isDir(cfgPath) { // a model folder's config: its generation config too
		if err := hf.CopyFiles(folderOf(cfgPath), out, hf.GenerationConfigFile); err != nil {
			return err
		}
	}
	return nil
}

// readTokenizerFlag reads the tokenizer --tokenizer names, a tokenizer.json
// or a model folder holding one, once it has checked that it is one (it
// parses as a Hugging Face tokenizer) and that its tokens fit the vocab
// rows of the embedding; otherwise it says what the path is not, or what
// it is instead (loadTokenizer).
func readTokenizerFlag(path string, vocab int) ([]byte, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("--tokenizer %s: no such file or folder: give a tokenizer.json, or the model folder that holds one", path)
	}
	t, err := loadTokenizer(path)
	if err == nil && t.VocabSize() > vocab {
		return nil, fmt.Errorf("--tokenizer %s: %d tokens, more than the %d rows of the embedding --config gives (vocab_size): a token past them could not be looked up; raise vocab_size to at least %d", path, t.VocabSize(), vocab, t.VocabSize())
	}
	if err != nil {
		var te *tokenizer.Error
		if errors.As(err, &te) { // it names the file: said once
			msg := te.Msg
			if te.Key != "" {
				msg = te.Key + ": " + msg
			}
			return nil, fmt.Errorf("--tokenizer %s: %s", te.File, msg)
		}
		return nil, fmt.Errorf("--tokenizer %s: %w", path, err)
	}
	file := path
	if st.IsDir() {
		file = filepath.Join(path, hf.TokenizerFile)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--tokenizer %s: %w", path, err)
	}
	return data, nil
}

// folderOf is the folder a flag's path names: the folder holding it when
// it is a file (a tokenizer.json, a config.json), else the path itself (a
// folder, or nothing there: what reads it then says so).
func folderOf(path string) string {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return filepath.Dir(path)
	}
	return path
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func parseDType(s string) (hf.DType, error) {
	switch strings.ToLower(s) {
	case "f32", "float32":
		return hf.F32, nil
	case "bf16", "bfloat16":
		return hf.BF16, nil
	}
	return "", fmt.Errorf("--dtype %q: want f32 or bf16", s)
}

// weightsFlag adds --weights to a command that only reads its models; one:
// it loads a single model (logprobs, serve), so the help says "the model".
func weightsFlag(fs *flag.FlagSet, one bool) *string {
	how := "how the models hold their matrices"
	if one {
		how = "how the model holds its matrices"
	}
	return fs.String("weights", "checkpoint", how+": checkpoint (BF16/F16 checkpoints stay 16-bit: half the memory, the same numbers) or float32")
}

func parseWeights(s string) (model.Precision, error) {
	switch strings.ToLower(s) {
	case "checkpoint", "":
		return model.Frozen16, nil
	case "float32", "f32":
		return model.Float32, nil
	}
	return 0, fmt.Errorf("--weights %q: want checkpoint or float32", s)
}

const modelInfoUsage = `
Usage: rlt model info DIR [--device cpu|gpu|gpu:N|auto] [--check-weights]

Shows the shape, parameter count, weight dtypes, files and memory needs of a
Hugging Face model folder, checking every tensor's name and shape, and what
the folder records of how it was made: the system prompts of its
prompts.json, and for a student of rlt distill --best-of its ranking.json
(N, the reward, the teacher, the questions and the seed). A record or a
tokenizer.json that cannot be read is said on its line, naming the file,
and the exit status is 1. It reads the weights' headers only;
--check-weights also reads every value once (4 MiB at a time, whatever the
folder's size) and says the first NaN or Inf, with its file, tensor and
index (exit 1), as a run would refuse it once loaded.

Example:
  rlt model info /tmp/tiny --check-weights
`

func runModelInfo(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt model info", modelInfoUsage, stdout, stderr)
	dev := fs.String("device", "auto", "the device to size the model for: cpu, gpu, gpu:N or auto")
	checkWeights := fs.Bool("check-weights", false, "read every weight once and refuse NaN or Inf, naming the tensor and index (a pass over the files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkArgs(fs, 1, "DIR"); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	dir := fs.Arg(0)
	files, err := hf.ScanFolder(dir)
	if err != nil {
		return err
	}
	if err := files.Check(false); err != nil {
		return err
	}
	hc, err := hf.LoadConfig(filepath.Join(dir, hf.ConfigFile))
	if err != nil {
		return err
	}
	cfg, err := model.ConfigFromHF(hc)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	folder, err := hf.OpenFolder(dir)
	if err != nil {
		return err
	}
	defer folder.Close()
	if err := folder.CheckQwen2(hc); err != nil {
		return err
	}
	// What the model loads is counted (parameters, dtypes, memory); a
	// tensor it does not load, such as the lm_head.weight of a tied
	// checkpoint, is on disk only, and said as ignored.
	loads := map[string]bool{}
	for _, s := range hf.Qwen2Tensors(hc) {
		loads[s.Name] = true
	}
	dtypes := map[hf.DType]int{}
	var params, fileBytes int64
	loaded := 0
	var ignored []string
	for _, t := range folder.Tensors() {
		fileBytes += t.Bytes()
		if !loads[t.Name] {
			ignored = append(ignored, ignoredTensor(t, cfg.Tied))
			continue
		}
		loaded++
		dtypes[t.DType] += t.NumElements()
		params += int64(t.NumElements())
	}
	sort.Strings(ignored)
	var dts []string
	for d, n := range dtypes {
		dts = append(dts, fmt.Sprintf("%s (%s)", d, humanCount(n)))
	}
	sort.Strings(dts)

	w := &strings.Builder{}
	fmt.Fprintf(w, "folder      %s\n", dir)
	fmt.Fprintf(w, "model       %s, %d layers, hidden %d, MLP %d, %d heads / %d kv heads of %d, vocab %d\n",
		hc.ModelType, cfg.Layers, cfg.Hidden, cfg.Intermediate, cfg.Heads, cfg.KVHeads, cfg.HeadDim(), cfg.Vocab)
	fmt.Fprintf(w, "positions   %d (rope θ %g), rms eps %g, tied embeddings %v, q/k/v bias %v\n",
		cfg.MaxPos, cfg.RopeTheta, cfg.RMSEps, cfg.Tied, cfg.QKVBias)
	fmt.Fprintf(w, "parameters  %s in %d tensors (%s on disk)\n", humanCount(int(params)), loaded, size.Bytes(fileBytes))
	if len(ignored) > 0 {
		fmt.Fprintf(w, "ignored     %s\n", strings.Join(ignored, "; "))
	}
	fmt.Fprintf(w, "dtypes      %s\n", strings.Join(dts, ", "))
	fmt.Fprintf(w, "memory      %s as float32 weights; training with AdamW needs about %s more (gradients and two moments)\n",
		size.Bytes(params*4), size.Bytes(params*12))
	kvPerToken := int64(cfg.Layers * 2 * cfg.KVHeads * cfg.HeadDim() * 4)
	fmt.Fprintf(w, "kv cache    %s per token per sequence\n", size.Bytes(kvPerToken))
	tokLine, tokErr := describeTokenizer(files, cfg.Vocab)
	fmt.Fprintf(w, "tokenizer   %s\n", tokLine)
	// What the folder records of how it was made: its prompts, and a
	// distilled student's ranking. A file that cannot be read is said on
	// its line and the rest still shows; the exit status says so too.
	promptsLine, promptsErr := describePrompts(dir)
	fmt.Fprintf(w, "prompts     %s\n", promptsLine)
	rankingLine, rankingErr := describeRanking(dir)
	if rankingLine != "" {
		fmt.Fprintf(w, "ranking     %s\n", rankingLine)
	}
	devLine, devErr := describeDevice(*dev, cfg, params)
	fmt.Fprintf(w, "device      %s\n", devLine)
	fmt.Fprintf(w, "gpus        %s\n", describeGPUs())
	io.WriteString(stdout, w.String())
	// The weights' values: the lines above read headers only, so a
	// folder of a diverged run's NaN weights showed as a good one (exit
	// 0), which a run refused only once it loaded them. Read on asking,
	// as it reads every byte (gigabytes for a Hub model); said after the
	// rest, which shows meanwhile.
	weightsErr := error(nil)
	if *checkWeights {
		ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
		n, read, err := model.CheckFolderFinite(ctx, folder)
		stopped := ctx.Err() != nil
		stop()
		switch {
		case err == nil:
			fmt.Fprintf(stdout, "weights     finite: every value of the %d float tensors read (%s)\n", n, size.Bytes(read))
		case stopped:
			fmt.Fprintf(stdout, "weights     not all read: stopped by a signal after %d tensors\n", n)
			weightsErr = fmt.Errorf("--check-weights: stopped by a signal after %d tensors (%s) were read, all finite: run it again to read them all", n, size.Bytes(read))
		default:
			fmt.Fprintf(stdout, "weights     NOT FINITE: %v\n", err)
			weightsErr = err
		}
	} else {
		fmt.Fprintf(stdout, "weights     not read (the lines above read the files' headers): --check-weights reads every value for NaN and Inf\n")
	}
	// The device asked for that is not there, a tokenizer or a record
	// that cannot be read, a weight that is not finite: each said, each
	// naming the device, the file or the tensor.
	return errors.Join(tokErr, promptsErr, rankingErr, devErr, weightsErr)
}

// describePrompts says the system prompts the folder records
// (record.PromptsFile: rlt pretrain's, rlt train --save's and rlt
// distill's student's), which the commands that read it as a teacher or a
// student use; none where it records none, and one it cannot read with
// the file and the problem (returned too), as every command that reads
// the folder refuses it.
func describePrompts(dir string) (string, error) {
	p, ok, err := record.ReadPrompts(dir)
	switch {
	case err != nil:
		return unreadable(err), err
	case !ok:
		return "none recorded (no " + record.PromptsFile + "): a command uses those its other model's folder records, else the default prompts", nil
	}
	return fmt.Sprintf("teacher_system %q; student_system %q", p.TeacherSystem, p.StudentSystem), nil
}

// unreadable is a record's line that says why it cannot be read: its
// problems (each naming the file) on the one line.
func unreadable(err error) string {
	return "unreadable: " + strings.ReplaceAll(err.Error(), "\n", "; ")
}

// describeRanking says how a student distilled with rlt distill --best-of
// had its rows chosen (record.RankingFile): N, the reward in the words
// rlt score and rlt distill say it before they score (rewardLine), the
// teacher, and the questions ranked, with the seed and the budget (max_new_tokens, the key); "" for
// a folder that records none, and one it cannot read with the file and
// the problem (returned too).
func describeRanking(dir string) (string, error) {
	r, ok, err := record.ReadRanking(dir)
	switch {
	case err != nil:
		return unreadable(err), err
	case !ok:
		return "", nil
	}
	questions := fmt.Sprintf("%s of the %s task's train split", plural(r.Questions, "question"), r.Task)
	if r.Data != "" {
		questions = fmt.Sprintf("the first %s of %s (sha256 %s)", plural(r.Questions, "usable row"), r.Data, r.DataSHA256)
	}
	return fmt.Sprintf("best of %d, %s; teacher %s; %s, seed %d, max_new_tokens %d",
		r.BestOf, rewardLine(r.Reward, r.RewardStudent, ""), r.Teacher, questions, r.Seed, r.MaxNewTokens), nil
}

// ignoredTensor says a tensor of the checkpoint the model does not load,
// and why, as transformers warns of weights not used.
func ignoredTensor(t hf.TensorInfo, tied bool) string {
	why := "not a Qwen2 weight: the model does not load it"
	if t.Name == "lm_head.weight" && tied {
		why = "tie_word_embeddings is true: the model uses the embedding as its output layer, not this tensor"
	}
	return fmt.Sprintf("%s (%s parameters, %s): %s", t.Name, humanCount(t.NumElements()), size.Bytes(t.Bytes()), why)
}

// describeGPUs lists the Vulkan devices as --device gpu:N names them, with
// their kind and memory, for choosing one of several.
func describeGPUs() string {
	gpus, err := device.GPUs()
	if len(gpus) == 0 {
		return "none: " + err.Error()
	}
	var s []string
	for _, g := range gpus {
		s = append(s, fmt.Sprintf("gpu:%d %s (%s, %s)", g.Index, g.Name, g.Type, size.Bytes(int64(g.DeviceLocalBytes))))
	}
	return strings.Join(s, ", ") + " (--device gpu:N)"
}

// describeDevice names the device --device chooses and whether the model
// trains within its memory (weights, gradients and AdamW's two moments)
// and its largest parameter, in float32, within one allocation there; a
// device that cannot be opened is said on the line and returned. On the
// CPU the memory is the host's a run's check reads (memory.Available:
// MemAvailable, a cgroup's room, RLT_MEMORY_LIMIT): it gave no verdict
// there, where the docs promise one for every device.
func describeDevice(name string, cfg model.Config, params int64) (string, error) {
	be, choice, err := device.Open(name, device.MatmulF32)
	if err != nil {
		return "unavailable: " + err.Error(), err
	}
	defer device.Close(be)
	s := choice.String()
	where := device.MemoryIn(be)
	mem := where.Bytes // 0 on the CPU
	if ok, whyNot := device.TensorCores(be); ok {
		s += "; tensor cores for matmul f16"
	} else if mem > 0 { // a GPU without them; the CPU goes unsaid
		s += "; matmul f16 unavailable: " + whyNot
	}
	need := uint64(params) * 16
	if mem == 0 {
		l, ok, err := memory.Available()
		switch {
		case err != nil: // a malformed RLT_MEMORY_LIMIT, which every command refuses
			return s + "; " + err.Error(), err
		case !ok: // no /proc/meminfo (not Linux): nothing to weigh it against
			return s + "; the host's available memory is not known here, so no training verdict", nil
		}
		verdict := "training fits"
		if int64(need) > l.Bytes {
			verdict = "training does NOT fit"
		}
		return s + fmt.Sprintf("; %s host memory available (%s), %s for training before activations: %s",
			size.Bytes(l.Bytes), l.Source, size.Bytes(int64(need)), verdict), nil
	}
	// The GPU's memory as a run's check weighs it (memory.OnDevice, its
	// one owner): RLT_MEMORY_LIMIT where lower. It said the GPU's whole
	// memory, and training fits where the run was then refused.
	l, err := memory.OnDevice(where.GPU, int64(mem))
	if err != nil { // a malformed RLT_MEMORY_LIMIT, which every command refuses
		return s + "; " + err.Error(), err
	}
	verdict := "training fits"
	big, elems := cfg.LargestParam()
	switch {
	case int64(need) > l.Bytes:
		verdict = "training does NOT fit: use --device cpu"
	case where.MaxBuffer > 0 && uint64(elems)*4 > where.MaxBuffer:
		verdict = fmt.Sprintf("training does NOT fit: %s is %s as float32, beyond the %s one allocation there holds: use --device cpu",
			big, size.Bytes(int64(elems)*4), size.Bytes(int64(where.MaxBuffer)))
	}
	return s + fmt.Sprintf("; %s device memory (%s), %s for training before activations: %s",
		size.Bytes(l.Bytes), l.Source, size.Bytes(int64(need)), verdict), nil
}

// describeTokenizer says what tokenizer and chat template a folder has, and
// whether the tokenizer fits the embedding; a tokenizer.json it cannot
// read is said with the file and the problem (returned too), as a record
// that cannot be read is (describePrompts): every command that reads
// text from the folder refuses it. It was said on its line alone, the
// exit status 0 where a malformed prompts.json's was 1. So is a tokenizer
// with more tokens than the embedding has rows, returned as the refusal
// those commands give it, and a tokenizer_config.json it cannot read.
func describeTokenizer(files hf.FolderFiles, rows int) (string, error) {
	if files.Tokenizer == "" {
		return "absent (tokenizer.json missing: text commands need one)", nil
	}
	tok, err := tokenizer.Load(files.Tokenizer)
	if err != nil {
		return unreadable(err), err // it names the file
	}
	s := fmt.Sprintf("%d tokens (%d added)", tok.VocabSize(), len(tok.AddedTokens()))
	var rowsErr error
	switch {
	case tok.VocabSize() > rows:
		// Said on the line, and by the exit status 1 with the refusal
		// every command that reads text from the folder gives it
		// (rlt.CheckTokenizerRows): a script that checks a folder with
		// rlt model info saw exit 0 for a model no command would run.
		s += fmt.Sprintf("; MISMATCH: more tokens than the embedding's %d rows", rows)
		rowsErr = rlt.CheckTokenizerRows("model folder", files.Dir, tok.VocabSize())
	case tok.VocabSize() < rows:
		s += fmt.Sprintf("; embedding rows %d..%d are never sampled", tok.VocabSize(), rows-1)
	}
	if files.TokenizerConfig != "" {
		// A tokenizer_config.json that cannot be read (not valid JSON, or
		// no object) is unreadable, as a record is, and the exit status
		// says it: every command that reads its template refuses it. One
		// that names another template is only said: the folder serves
		// plain text. Both were said alike, exit 0.
		data, err := os.ReadFile(files.TokenizerConfig)
		if err == nil {
			_, err = tokenizer.ParseConfig(files.TokenizerConfig, data)
		}
		if err != nil {
			return s + "; template: " + unreadable(err), errors.Join(rowsErr, err)
		}
		if _, err := tokenizer.TemplateOf(files.TokenizerConfig, data); err != nil {
			s += "; template: " + err.Error()
		} else {
			s += "; template: ChatML"
		}
	} else if found, err := tokenizer.TemplateFileOf(files.Dir); found {
		// chat_template.jinja alone, as transformers 4.47 on saves a template
		if err != nil {
			s += "; template: " + err.Error()
		} else {
			s += "; template: ChatML (" + hf.ChatTemplateFile + ")"
		}
	} else if _, ok := tok.ID("<|im_start|>"); ok {
		s += "; template: ChatML (no tokenizer_config.json; <|im_start|> is a token)"
	}
	return s, rowsErr
}
