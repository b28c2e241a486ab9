package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/shell"
)

// Names of the files a Hugging Face model folder may hold besides weights.
const (
	TokenizerFile        = "tokenizer.json"
	TokenizerConfigFile  = "tokenizer_config.json"
	GenerationConfigFile = "generation_config.json"
	SpecialTokensMapFile = "special_tokens_map.json"
	// ChatTemplateFile is where recent transformers versions save a chat
	// template, and where transformers reads it from before
	// tokenizer_config.json's chat_template, which a folder it saves then
	// lacks.
	ChatTemplateFile = "chat_template.jinja"
)

// NoTokenizer is the error for a model folder without tokenizer.json, as
// every command says it. A folder with the slow tokenizer's vocab.json and
// merges.txt is told how to make the tokenizer.json from them.
func NoTokenizer(dir string) error {
	msg := fmt.Sprintf("%s holds no %s: give the tokenizer.json of the model, or the model folder that holds it", dir, TokenizerFile)
	_, verr := os.Stat(filepath.Join(dir, "vocab.json"))
	_, merr := os.Stat(filepath.Join(dir, "merges.txt"))
	if verr == nil && merr == nil {
		msg += "; its vocab.json and merges.txt (the slow tokenizer's files) are not read: " + TokenizerJSONNeeded(dir)
	}
	return errors.New(msg)
}

// TokenizerJSONNeeded says how to make a folder's tokenizer.json from the
// slow tokenizer's files.
func TokenizerJSONNeeded(dir string) string {
	return fmt.Sprintf("a tokenizer.json is needed; transformers writes it: AutoTokenizer.from_pretrained(%q).save_pretrained(%q)", dir, dir)
}

// TokenizerSideFiles are the files beside tokenizer.json that transformers'
// AutoTokenizer reads (the chat template, eos and pad tokens): a folder
// that copies a tokenizer.json copies them with it. chat_template.jinja
// among them: a folder saved by a recent transformers keeps its template
// there alone, and a model rlt saved from it had none.
var TokenizerSideFiles = []string{TokenizerConfigFile, SpecialTokensMapFile, ChatTemplateFile}

// CopyFiles copies each named file that srcDir holds into dstDir, replacing
// it atomically; a name srcDir lacks is passed over. A saved model keeps
// its source's generation_config.json and tokenizer files this way, so
// transformers and vLLM stop and template it as they did the source.
func CopyFiles(srcDir, dstDir string, names ...string) error {
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(srcDir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
		if err := durable.WriteFile(filepath.Join(dstDir, name), data, 0o644); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
	}
	return nil
}

// FolderFiles records which of the known files a model folder holds. Each
// field is the file's path, or "" when absent.
type FolderFiles struct {
	Dir              string
	Config           string // config.json
	Weights          string // model.safetensors
	WeightsIndex     string // model.safetensors.index.json
	Tokenizer        string // tokenizer.json
	TokenizerConfig  string // tokenizer_config.json
	GenerationConfig string // generation_config.json

	// Other weight files we cannot read, kept to explain what is wrong:
	// PyTorch pickles (*.bin, *.pt, *.pth) and other *.safetensors files.
	PickleWeights    []string
	OtherSafetensors []string
}

// IsModelFile reports whether name is the name of one of a model
// folder's own files (config.json, weights and their index, the
// tokenizer's files, generation_config.json, prompts.json, a shard).
func IsModelFile(name string) bool {
	switch name {
	case ConfigFile, WeightsFile, IndexFile, TokenizerFile, TokenizerConfigFile, GenerationConfigFile, SpecialTokensMapFile, ChatTemplateFile, "prompts.json":
		return true
	}
	return strings.HasSuffix(name, ".safetensors")
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// FileNotFolder is the error for a file given where a model folder goes
// (model.safetensors for its folder, a data file for a model): it says the
// path is a file and, for one of a model folder's own files, names the
// folder to give instead. It is nil when path is a folder, does not
// exist or cannot be looked at (whatever opens it says that). Every
// reader of a model folder (ScanFolder, LoadConfig, the tokenizer's and the
// prompts' loaders) checks it first, so each command says it alike.
func FileNotFolder(path string) error {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return nil
	}
	dir, name := filepath.Dir(path), filepath.Base(path)
	if IsModelFile(name) && (!strings.HasSuffix(name, ".safetensors") || name == WeightsFile || exists(filepath.Join(dir, ConfigFile))) {
		return fmt.Errorf("%s is a file, not a model folder: give the folder that holds it (%s)", path, dir)
	}
	return fmt.Errorf("%s is a file, not a model folder: give a folder holding config.json, model.safetensors and tokenizer.json (a Hugging Face model folder, or one "+shell.Program()+" pretrain, "+shell.Program()+" train --save or "+shell.Program()+" distill wrote)", path)
}

// missingFolder says that the model folder dir is not there, with what to
// give instead: the bare "does not exist" left a new user, who has no
// model yet, without a way on.
func missingFolder(dir string) error {
	return fmt.Errorf("model folder %s does not exist: check the path, or give a folder holding config.json, model.safetensors and tokenizer.json (`"+shell.Program()+" model defaults --out DIR` writes the embedded teacher and student)", dir)
}

// ScanFolder lists the model files present in dir. It fails only when dir
// cannot be read; use Check to require files.
func ScanFolder(dir string) (FolderFiles, error) {
	ff := FolderFiles{Dir: dir}
	if err := FileNotFolder(dir); err != nil {
		return ff, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) { // as LoadConfig says it
			return ff, missingFolder(dir)
		}
		return ff, fmt.Errorf("model folder: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		p := filepath.Join(dir, name)
		switch name {
		case ConfigFile:
			ff.Config = p
		case WeightsFile:
			ff.Weights = p
		case IndexFile:
			ff.WeightsIndex = p
		case TokenizerFile:
			ff.Tokenizer = p
		case TokenizerConfigFile:
			ff.TokenizerConfig = p
		case GenerationConfigFile:
			ff.GenerationConfig = p
		default:
			switch {
			case strings.HasPrefix(name, "."):
			case strings.HasSuffix(name, ".safetensors"):
				ff.OtherSafetensors = append(ff.OtherSafetensors, name)
			case strings.HasSuffix(name, ".bin") || strings.HasSuffix(name, ".pt") || strings.HasSuffix(name, ".pth"):
				ff.PickleWeights = append(ff.PickleWeights, name)
			}
		}
	}
	return ff, nil
}

// HasWeights reports whether the folder has model.safetensors or an index.
func (ff FolderFiles) HasWeights() bool { return ff.Weights != "" || ff.WeightsIndex != "" }

// Check returns an error listing what the folder lacks to load a model:
// config.json and weights always, tokenizer.json when needTokenizer.
// tokenizer_config.json and generation_config.json are optional.
func (ff FolderFiles) Check(needTokenizer bool) error {
	var missing, advice []string
	if ff.Config == "" {
		missing = append(missing, ConfigFile)
	}
	if !ff.HasWeights() {
		missing = append(missing, WeightsFile+" (or "+IndexFile+" with its shards)")
		switch {
		case len(ff.PickleWeights) > 0:
			advice = append(advice, fmt.Sprintf("the folder has PyTorch pickle weights (%s), which are not read here: convert them to safetensors first, e.g. in Python `AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)`", strings.Join(ff.PickleWeights, ", ")))
		case len(ff.OtherSafetensors) > 0:
			advice = append(advice, fmt.Sprintf("the folder has other safetensors files (%s) but no %s or %s naming them; if they are shards, the index is missing; if one is the whole model, rename it to %s", strings.Join(ff.OtherSafetensors, ", "), WeightsFile, IndexFile, WeightsFile))
		}
	}
	if needTokenizer && ff.Tokenizer == "" {
		missing = append(missing, TokenizerFile)
	}
	if len(missing) == 0 {
		return nil
	}
	if err := ff.hubCache(); err != nil {
		return err
	}
	if err := ff.NotAModel(); err != nil {
		return err
	}
	var found []string
	for _, p := range []string{ff.Config, ff.Weights, ff.WeightsIndex, ff.Tokenizer, ff.TokenizerConfig, ff.GenerationConfig} {
		if p != "" {
			found = append(found, filepath.Base(p))
		}
	}
	found = append(found, ff.OtherSafetensors...)
	found = append(found, ff.PickleWeights...)
	foundStr := "nothing relevant"
	if len(found) > 0 {
		foundStr = strings.Join(found, ", ")
	}
	switch {
	case len(missing) == 1 && missing[0] == TokenizerFile && exists(filepath.Join(ff.Dir, "vocab.json")) && exists(filepath.Join(ff.Dir, "merges.txt")):
		advice = append(advice, "its vocab.json and merges.txt (the slow tokenizer's files) are not read: "+TokenizerJSONNeeded(ff.Dir))
	case len(missing) == 1 && missing[0] == TokenizerFile:
		// Weights and config without a tokenizer: a checkpoint saved by
		// model.save_pretrained alone, whose tokenizer is its base
		// model's. It was told to fetch a complete model from the Hub.
		advice = append(advice, fmt.Sprintf("a checkpoint saved by model.save_pretrained alone holds no tokenizer: save its base model's beside it (AutoTokenizer.from_pretrained(BASE).save_pretrained(%q)), or copy the base model folder's tokenizer.json, tokenizer_config.json and %s (where it has one: the chat template of recent transformers versions) into it", ff.Dir, ChatTemplateFile))
	default:
		advice = append(advice, "a Hugging Face model folder holds config.json, model.safetensors (or sharded weights with model.safetensors.index.json) and tokenizer.json; fetch a complete one with e.g. `huggingface-cli download Qwen/Qwen2.5-0.5B --local-dir DIR`")
	}
	return fmt.Errorf("model folder %s is incomplete: missing %s; found %s: %s", ff.Dir, strings.Join(missing, ", "), foundStr, strings.Join(advice, "; "))
}

// hubCache says, for a model's folder of the Hugging Face cache
// (models--ORG--NAME, what huggingface-cli download and from_pretrained
// fill where no --local-dir is given) or its snapshots/ folder, which
// model folder in it to give: snapshots/REV, REV the revision refs/main
// names, else the only one there, else each; nil for any other folder.
// Such a folder was said to be incomplete, "found nothing relevant", and
// to be fetched again, the model being right there.
func (ff FolderFiles) hubCache() error {
	repo, snapshots := filepath.Clean(ff.Dir), filepath.Join(filepath.Clean(ff.Dir), "snapshots")
	if filepath.Base(repo) == "snapshots" {
		repo, snapshots = filepath.Dir(repo), repo
	}
	if !strings.HasPrefix(filepath.Base(repo), "models--") {
		return nil
	}
	entries, err := os.ReadDir(snapshots)
	if err != nil {
		return nil
	}
	var revs []string
	for _, e := range entries {
		if e.IsDir() {
			revs = append(revs, filepath.Join(snapshots, e.Name()))
		}
	}
	if len(revs) == 0 {
		return nil
	}
	what := fmt.Sprintf("%s is a folder of the Hugging Face cache (what huggingface-cli download and from_pretrained fill without --local-dir), not a model folder: its model folders are in %s, one for each revision",
		ff.Dir, snapshots)
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err == nil {
		main := filepath.Join(snapshots, strings.TrimSpace(string(ref)))
		if slices.Contains(revs, main) {
			return fmt.Errorf("%s: give %s (the revision refs/main names)", what, main)
		}
	}
	if len(revs) == 1 {
		return fmt.Errorf("%s: give %s", what, revs[0])
	}
	return fmt.Errorf("%s: give one of %s", what, strings.Join(revs, ", "))
}

// NotAModel says what the folder is when it is one of the workbench's own
// that people take for a model folder: a run folder (its config.toml), one
// of a run's checkpoints (optimizer.safetensors, and the trained teacher in
// its teacher/ folder), or rlt pretrain's output (a teacher/ and a student/
// model folder); nil for any other.
func (ff FolderFiles) NotAModel() error {
	if _, err := os.Stat(filepath.Join(ff.Dir, "config.toml")); err == nil {
		return fmt.Errorf("%s is a run folder, not a model folder: its config.toml names the teacher and student it trains with, and each checkpoint holds the trained teacher as a model folder (%s)",
			ff.Dir, filepath.Join(ff.Dir, "checkpoints", "step-NNNNNN", "teacher"))
	}
	if ff.Config == "" {
		has := func(name string) bool { _, err := os.Stat(filepath.Join(ff.Dir, name)); return err == nil }
		teacher, student := filepath.Join(ff.Dir, "teacher"), filepath.Join(ff.Dir, "student")
		switch {
		case has(filepath.Join("teacher", ConfigFile)) && has("optimizer.safetensors"):
			return fmt.Errorf("%s is a training checkpoint, not a model folder: the teacher trained to that step is the model folder %s", ff.Dir, teacher)
		case has(filepath.Join("teacher", ConfigFile)) && has(filepath.Join("student", ConfigFile)):
			// The two are said as words of a command, quoted as every
			// command said to the user is (shell.Quote): a folder with a
			// space read as two.
			return fmt.Errorf("%s holds two model folders, not one ("+shell.Program()+" pretrain writes them so): give %s or %s", ff.Dir, shell.Quote(teacher), shell.Quote(student))
		}
	}
	return nil
}

// Folder is the weights of a model folder opened for reading: a single
// model.safetensors or every shard of model.safetensors.index.json, behind
// one lookup by tensor name. Like File it may serve several goroutines.
type Folder struct {
	Files FolderFiles

	files   []*File
	where   map[string]*File
	tensors []TensorInfo // sorted by name
}

// OpenFolder opens the weights of the model folder dir, validating every
// safetensors header and, for a sharded checkpoint, that each tensor of the
// index is in the shard the index names. config.json is not read (see
// LoadConfig); a folder without weights is an error saying what is missing.
// When both model.safetensors and an index exist, model.safetensors is used,
// as transformers does.
func OpenFolder(dir string) (*Folder, error) {
	ff, err := ScanFolder(dir)
	if err != nil {
		return nil, err
	}
	if !ff.HasWeights() {
		return nil, ff.Check(false)
	}
	fo := &Folder{Files: ff, where: map[string]*File{}}
	if ff.Weights != "" {
		f, err := Open(ff.Weights)
		if err != nil {
			return nil, damagedWeights(err)
		}
		fo.files = []*File{f}
		for _, t := range f.tensors {
			fo.where[t.Name] = f
		}
		fo.tensors = f.Tensors()
		return fo, nil
	}
	if err := fo.openShards(ff.WeightsIndex); err != nil {
		fo.Close()
		return nil, err
	}
	return fo, nil
}

// downloadAgain is what to do about a model folder's file that is damaged
// or cut short (its weights, their index), after what is wrong with it.
const downloadAgain = "download the model folder again"

// damagedWeights is err, the opening of a model folder's weights file, with
// what to do where the file is malformed (ErrMalformed: cut short, or not
// safetensors): the header says only what is wrong with it.
func damagedWeights(err error) error {
	if errors.Is(err, ErrMalformed) {
		return fmt.Errorf("%w: %s", err, downloadAgain)
	}
	return err
}

func (fo *Folder) openShards(indexPath string) error {
	data, err := os.ReadFile(indexPath)
	if err != nil {
		return fmt.Errorf("open model folder: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("open %s: key \"weight_map\" must map tensor names to shard files: %s", indexPath, jsonTypeError(err))
		}
		return fmt.Errorf("open %s: not valid JSON: %s: %s", indexPath, jsonerr.At(data, err), downloadAgain)
	}
	// encoding/json takes "Weight_Map" as weight_map; transformers reads
	// the key exactly, and would not load such a folder.
	if miss := jsonerr.FindCaseMiss(data, []string{"weight_map", "metadata"}); miss != nil {
		return fmt.Errorf("open %s: %v: write it %q, as transformers reads it", indexPath, miss, miss.Field)
	}
	if len(idx.WeightMap) == 0 {
		return fmt.Errorf("open %s: weight_map is missing or empty: %s", indexPath, downloadAgain)
	}
	shards := map[string]*File{}
	names := make([]string, 0, len(idx.WeightMap))
	for name := range idx.WeightMap {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		shard := idx.WeightMap[name]
		f, ok := shards[shard]
		if !ok {
			if !filepath.IsLocal(shard) {
				return fmt.Errorf("open %s: tensor %q: shard %q is not a file inside the folder", indexPath, name, shard)
			}
			f, err = Open(filepath.Join(fo.Files.Dir, shard))
			if errors.Is(err, fs.ErrNotExist) {
				n := 0
				for _, s := range idx.WeightMap {
					if s == shard {
						n++
					}
				}
				what := fmt.Sprintf("tensor %q", name)
				if n > 1 {
					what = fmt.Sprintf("%d tensors (%q the first)", n, name)
				}
				return fmt.Errorf("open %s: shard %s is missing: the index places %s in it; the folder is incomplete (a download that stopped part way?): fetch the shard again", indexPath, shard, what)
			}
			if err != nil {
				return fmt.Errorf("open %s: shard of tensor %q: %w", indexPath, name, damagedWeights(err))
			}
			shards[shard] = f
			fo.files = append(fo.files, f)
		}
		t, ok := f.Tensor(name)
		if !ok {
			return fmt.Errorf("open %s: tensor %q: the index places it in %s, which has no such tensor: %s", indexPath, name, shard, downloadAgain)
		}
		fo.where[name] = f
		fo.tensors = append(fo.tensors, t)
	}
	return nil
}

// Dir is the folder's path.
func (fo *Folder) Dir() string { return fo.Files.Dir }

// Path is the file that lists the folder's tensors: its weights file, or
// the index of its shards (an error about a tensor not there names it).
// FolderFiles' paths hold the folder already: joined to it again, a
// missing tensor was said to be missing from "nb/nb/model.safetensors".
func (fo *Folder) Path() string { return fo.weightsName() }

// Tensors lists every tensor of the checkpoint sorted by name (a copy).
func (fo *Folder) Tensors() []TensorInfo {
	out := make([]TensorInfo, len(fo.tensors))
	copy(out, fo.tensors)
	return out
}

// Tensor looks up one tensor by name.
func (fo *Folder) Tensor(name string) (TensorInfo, bool) {
	f, ok := fo.where[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensor(name)
}

func (fo *Folder) file(name string) (*File, error) {
	f, ok := fo.where[name]
	if !ok {
		return nil, fmt.Errorf("read model folder %s: tensor %q: %w", fo.Files.Dir, name, ErrNotFound)
	}
	return f, nil
}

// ReadFloat32 reads a tensor into dst (see File.ReadFloat32).
func (fo *Folder) ReadFloat32(name string, dst []float32) error {
	f, err := fo.file(name)
	if err != nil {
		return err
	}
	return f.ReadFloat32(name, dst)
}

// ReadBits16 reads a 16-bit tensor's bits into dst (see File.ReadBits16).
func (fo *Folder) ReadBits16(name string, dst []uint16) error {
	f, err := fo.file(name)
	if err != nil {
		return err
	}
	return f.ReadBits16(name, dst)
}

// ReadFloat32At reads part of a tensor into dst (see File.ReadFloat32At).
func (fo *Folder) ReadFloat32At(name string, first int, dst []float32) error {
	f, err := fo.file(name)
	if err != nil {
		return err
	}
	return f.ReadFloat32At(name, first, dst)
}

// ReadBits16At reads part of a 16-bit tensor's bits into dst (see
// File.ReadBits16At).
func (fo *Folder) ReadBits16At(name string, first int, dst []uint16) error {
	f, err := fo.file(name)
	if err != nil {
		return err
	}
	return f.ReadBits16At(name, first, dst)
}

// ReadInt32 reads an integer tensor into dst (see File.ReadInt32).
func (fo *Folder) ReadInt32(name string, dst []int32) error {
	f, err := fo.file(name)
	if err != nil {
		return err
	}
	return f.ReadInt32(name, dst)
}

// Close closes every file of the folder.
func (fo *Folder) Close() error {
	var errs []error
	for _, f := range fo.files {
		errs = append(errs, f.Close())
	}
	fo.files = nil
	return errors.Join(errs...)
}

// TensorSpec is a tensor a model expects: its name and shape.
type TensorSpec struct {
	Name  string
	Shape []int
}

// Qwen2Tensors lists the tensors of a Qwen2 checkpoint for c, in HF names
// and layout (linear weights are [out, in]). lm_head.weight is listed only
// when the embeddings are not tied; q/k/v biases only when c.QKVBias.
func Qwen2Tensors(c Config) []TensorSpec {
	d, hd := c.HiddenSize, c.HeadSize()
	q, kv, ff := c.NumAttentionHeads*hd, c.NumKeyValueHeads*hd, c.IntermediateSize
	specs := []TensorSpec{{"model.embed_tokens.weight", []int{c.VocabSize, d}}}
	for i := 0; i < c.NumHiddenLayers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		specs = append(specs,
			TensorSpec{p + "input_layernorm.weight", []int{d}},
			TensorSpec{p + "self_attn.q_proj.weight", []int{q, d}},
			TensorSpec{p + "self_attn.k_proj.weight", []int{kv, d}},
			TensorSpec{p + "self_attn.v_proj.weight", []int{kv, d}},
		)
		if c.QKVBias {
			specs = append(specs,
				TensorSpec{p + "self_attn.q_proj.bias", []int{q}},
				TensorSpec{p + "self_attn.k_proj.bias", []int{kv}},
				TensorSpec{p + "self_attn.v_proj.bias", []int{kv}},
			)
		}
		specs = append(specs,
			TensorSpec{p + "self_attn.o_proj.weight", []int{d, q}},
			TensorSpec{p + "post_attention_layernorm.weight", []int{d}},
			TensorSpec{p + "mlp.gate_proj.weight", []int{ff, d}},
			TensorSpec{p + "mlp.up_proj.weight", []int{ff, d}},
			TensorSpec{p + "mlp.down_proj.weight", []int{d, ff}},
		)
	}
	specs = append(specs, TensorSpec{"model.norm.weight", []int{d}})
	if !c.TieWordEmbeddings {
		specs = append(specs, TensorSpec{"lm_head.weight", []int{c.VocabSize, d}})
	}
	return specs
}

// CheckLayers refuses a checkpoint whose decoder layers are not the
// config's num_hidden_layers, said once, before any tensor is read or
// made: the layers are counted from the tensor names (model.layers.N.…),
// and a checkpoint with none is left to CheckQwen2 and the load, which
// name what is missing. A config that says more layers than the weights
// hold was refused tensor by tensor, ten of them and "… and 1199942 more
// problems" for a config.json of 100000 layers, after memory estimates
// had sized the model by that config (73 GiB for a 3 MiB checkpoint, with
// advice to shorten --max-new-tokens). One that says fewer loaded
// silently: the model computed with its first layers only, and a trained
// teacher was saved without the rest. A gap (layer 2 of 0–3 missing) is
// no count mismatch: it is left to the tensor checks, which name it.
func (fo *Folder) CheckLayers(c Config) error {
	have := -1
	for _, t := range fo.tensors {
		rest, ok := strings.CutPrefix(t.Name, "model.layers.")
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n >= 0 && n+1 > have {
			have = n + 1
		}
	}
	if have < 0 || have == c.NumHiddenLayers {
		return nil
	}
	what := "the load would find no weights for " + layerSpan(have, c.NumHiddenLayers-1)
	if c.NumHiddenLayers < have {
		what = fmt.Sprintf("the model would compute with its first %d and leave out %s", c.NumHiddenLayers, layerSpan(c.NumHiddenLayers, have-1))
	}
	return fmt.Errorf("%s: num_hidden_layers is %d, but %s holds %d layers (model.layers.0 to model.layers.%d): %s; "+
		"the config and the weights are not of one model: set num_hidden_layers to %d if these weights are the model's, "+
		"or put the model's own config.json beside them (download the model folder again)",
		filepath.Join(fo.Files.Dir, ConfigFile), c.NumHiddenLayers, fo.weightsName(), have, have-1, what, have)
}

// layerSpan names the layers from to to: "layer 3" where it is one, not
// "layers 3 to 3".
func layerSpan(from, to int) string {
	if from == to {
		return fmt.Sprintf("layer %d", from)
	}
	return fmt.Sprintf("layers %d to %d", from, to)
}

// CheckQwen2 verifies that the checkpoint holds every tensor Qwen2Tensors(c)
// lists, with that shape and a float dtype. With tied embeddings a stray
// lm_head.weight is allowed if its shape fits. Other extra tensors are
// ignored. It reports up to 10 problems, each naming file and tensor; a
// count of layers that is not the config's (CheckLayers) is said alone.
func (fo *Folder) CheckQwen2(c Config) error {
	if err := fo.CheckLayers(c); err != nil { // said once, not as each missing tensor
		return err
	}
	var errs []error
	more := 0
	add := func(err error) {
		if len(errs) < 10 {
			errs = append(errs, err)
		} else {
			more++
		}
	}
	biasNote, shapeNote := "", ""
	specs := Qwen2Tensors(c)
	if c.TieWordEmbeddings {
		if _, ok := fo.where["lm_head.weight"]; ok {
			specs = append(specs, TensorSpec{"lm_head.weight", []int{c.VocabSize, c.HiddenSize}})
		}
	}
	missing := 0
	for _, s := range specs {
		t, ok := fo.Tensor(s.Name)
		if !ok {
			missing++
			add(fmt.Errorf("load %s: tensor %q: missing (config wants shape %v)", fo.weightsName(), s.Name, s.Shape))
			if note := MissingNote(c, s.Name); note != "" && biasNote == "" {
				biasNote = note
			}
			continue
		}
		if !slices.Equal(t.Shape, s.Shape) {
			add(fmt.Errorf("load %s: tensor %q: shape %v but config wants %v", t.File, s.Name, t.Shape, s.Shape))
			shapeNote = ShapeNote(fo.Files.Dir)
		}
		if !t.DType.IsFloat() {
			add(fmt.Errorf("load %s: tensor %q: dtype %s but weights must be F32, BF16, F16 or F64", t.File, s.Name, t.DType))
		}
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("… and %d more problems", more))
	}
	if missing > 0 {
		reads := make(map[string]bool, len(specs)+1)
		for _, s := range specs {
			reads[s.Name] = true
		}
		reads["lm_head.weight"] = reads["lm_head.weight"] || c.TieWordEmbeddings // a stray one is allowed
		if note := UnreadNote(fo.Tensors(), func(name string) bool { return reads[name] }); note != "" {
			errs = append(errs, fmt.Errorf("load %s: %s", fo.weightsName(), note))
		}
	}
	if biasNote != "" { // said once, after the biases it explains
		errs = append(errs, errors.New(biasNote))
	}
	if shapeNote != "" { // said once, after the shapes it explains
		errs = append(errs, errors.New(shapeNote))
	}
	return errors.Join(errs...)
}

// ShapeNote is the way on from a tensor of the model folder dir whose
// shape is not the one its config.json gives (hidden_size,
// intermediate_size, vocab_size, the heads): the config and the weights
// are of two models, and neither file alone says which is wrong. The
// mismatch was said with no way on.
func ShapeNote(dir string) string {
	return fmt.Sprintf("the shapes a model's tensors take come from its config.json (hidden_size, intermediate_size, vocab_size, the heads): %s and the weights are not of one model; put the model's own config.json beside the weights, or download the model folder again",
		filepath.Join(dir, ConfigFile))
}

// UnreadNote is what a missing tensor's error adds about the tensors of
// have that reads says the model does not read (up to 5 named, in
// order), "" for none: where a tensor is missing, one of them may be it
// under another name (renamed, or a damaged header). Extra tensors alone
// are no problem. The caller joins it to its own text.
func UnreadNote(have []TensorInfo, reads func(name string) bool) string {
	var names []string
	for _, t := range have {
		if !reads(t.Name) {
			names = append(names, t.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	shown := make([]string, 0, 6)
	for _, n := range names[:min(5, len(names))] {
		shown = append(shown, strconv.Quote(n))
	}
	if len(names) > 5 {
		shown = append(shown, fmt.Sprintf("… (%d in all)", len(names)))
	}
	return "the checkpoint also holds tensors the model does not read: " + strings.Join(shown, ", ") +
		": is a missing one there under another name (renamed, or its name damaged)?"
}

// MissingNote is what a missing tensor's error adds, "" for nothing: for a
// q/k/v bias of a Qwen2 model, that Qwen2 always has them (as
// transformers' and vLLM's Qwen2 do, whatever attention_bias says), so the
// checkpoint is not one. The caller joins it to its own text.
func MissingNote(c Config, name string) string {
	if !c.QKVBias || c.ModelType != "qwen2" || !strings.HasSuffix(name, "_proj.bias") {
		return ""
	}
	return "Qwen2's q/k/v projections always have biases (transformers' and vLLM's Qwen2 have them whatever attention_bias says): a checkpoint without them is not a Qwen2 one"
}

func (fo *Folder) weightsName() string {
	if fo.Files.Weights != "" {
		return fo.Files.Weights
	}
	return fo.Files.WeightsIndex
}
