package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// EOS is what ends a generation of the served model besides a request's
// stop_token_ids, as vLLM reads it from the model folder: vLLM's
// SamplingParams.update_from_generation_config takes the tokenizer's
// eos_token as the end of sequence, and adds the generation config's
// other eos_token_id to every request's stop token ids; a request with
// ignore_eos has neither (vllmFinish). SGLang's /generate is not
// concerned: with at most one new token its max_new_tokens always ends
// the generation first (Req.check_finished).
type EOS struct {
	// Token is the tokenizer's eos_token: a generation it ends finishes
	// with stop_reason null. Nil when the tokenizer has none.
	Token *int32
	// More are the generation config's eos_token_id less Token: each ends
	// a generation as a stop token id of the request does, stop_reason the
	// id.
	More []int32
	// SGLang are the ids SGLang holds back, besides a request's
	// stop_token_ids, from a token its min_new_tokens keeps from ending
	// the generation (penaltylib's min_new_tokens): the tokenizer's
	// eos_token (Token), every eos_token_id of config.json and of
	// generation_config.json (ModelConfig's hf_eos_token_id unions them,
	// where vLLM takes the second only) and an added <|eom_id|>
	// (additional_stop_token_ids), in that order, each once.
	SGLang []int32
}

// ReadEOS is the EOS of the model folder dir whose tokenizer gives the id
// of a token's text: the tokenizer's eos_token is special_tokens_map.json's,
// else tokenizer_config.json's (transformers' from_pretrained lets the
// first override the second; a folder with neither has none, as our own
// folders); the generation config's eos_token_id (a number or a list) is
// generation_config.json's, else config.json's (vLLM's
// try_get_generation_config falls back to GenerationConfig.from_model_config
// only when the file is absent). config is the folder's config.json as
// hf read it (model.InspectFolder's), not read again here: its
// eos_token_id and its vocab_size (0: not known), which every
// eos_token_id must be within (eosTokenIDs).
func ReadEOS(dir string, config hf.Config, id func(token string) (int32, bool)) (EOS, error) {
	var eos EOS
	vocab := config.VocabSize
	for _, name := range []string{hf.SpecialTokensMapFile, hf.TokenizerConfigFile} {
		raw, path, err := readKey(dir, name, "eos_token")
		if err != nil {
			return EOS{}, err
		}
		if path == "" {
			continue // no such file
		}
		if isNull(raw) {
			if name == hf.SpecialTokensMapFile {
				continue // tokenizer_config.json may name it
			}
			break
		}
		text, ok, miss := tokenizer.AddedTokenText(raw)
		if miss != nil {
			return EOS{}, fmt.Errorf("%s: eos_token: %w: write it %q, as transformers reads it, or the folder's end of sequence is not the one its tokenizer has", path, miss, miss.Field)
		}
		if !ok {
			return EOS{}, fmt.Errorf("%s: eos_token is %s, not a token's text (a string, or an object with its \"content\"): fix the file", path, raw)
		}
		tokID, ok := id(text)
		if !ok {
			return EOS{}, fmt.Errorf("%s: eos_token %q is not a token of the folder's tokenizer.json, so no generation could end with it: fix the file", path, text)
		}
		eos.Token = &tokID
		break
	}
	add := func(list []int32, ids ...int32) []int32 {
		for _, x := range ids {
			if !slices.Contains(list, x) {
				list = append(list, x)
			}
		}
		return list
	}
	if eos.Token != nil {
		eos.SGLang = add(eos.SGLang, *eos.Token)
	}
	genIDs, genFound, err := eosTokenIDs(dir, hf.GenerationConfigFile, vocab)
	if err != nil {
		return EOS{}, err
	}
	cfgIDs, err := configEOS(dir, config)
	if err != nil {
		return EOS{}, err
	}
	eos.SGLang = add(add(eos.SGLang, genIDs...), cfgIDs...)
	vllm := genIDs
	if !genFound {
		vllm = cfgIDs // generation_config.json absent: config.json's
	}
	for _, x := range vllm {
		if eos.Token == nil || x != *eos.Token {
			eos.More = add(eos.More, x)
		}
	}
	if x, ok := id("<|eom_id|>"); ok {
		eos.SGLang = add(eos.SGLang, x)
	}
	return eos, nil
}

// eosTokenIDs are the eos_token_id (a number or a list) of the JSON file
// name in dir; found says whether there is such a file. vocab is the
// model's vocabulary (config.json's vocab_size, the embedding's rows; 0:
// not known): an id past it, or a negative one, is no token the model can
// generate, so a generation it should end would run to its max_tokens
// (vLLM takes any number into a request's stop token ids, transformers
// warns and generates on); it is refused here naming the file, the value
// and the way on, as config.json's own is (hf.Config.Validate). A number
// written as a float with no fraction (2.0) is the id, as Python's
// 2 == 2.0 has vLLM match it.
func eosTokenIDs(dir, name string, vocab int) (ids []int32, found bool, err error) {
	raw, path, err := readKey(dir, name, "eos_token_id")
	if err != nil || path == "" || isNull(raw) {
		return nil, path != "", err
	}
	fix := "write the id of the token that ends a generation (the tokenizer's end of sequence), or a list of them, or remove the key"
	if vocab > 0 {
		fix = fmt.Sprintf("write the id of the token that ends a generation (the tokenizer's end of sequence, from 0 to %d), or a list of them, or remove the key", vocab-1)
	}
	// check is the id of one value, item (1-based) of the list, or 0 for
	// the value itself.
	check := func(v json.RawMessage, item int) (int32, error) {
		key := "eos_token_id"
		if item > 0 {
			key = hf.ItemKey(key, raw, item-1)
		}
		n, err := hf.WholeNumber(path, key, v, "fix the file: "+fix)
		if err != nil {
			return 0, err
		}
		what := key + " " + string(bytes.TrimSpace(v))
		if item > 0 {
			what += ","
		}
		switch {
		case n < 0:
			return 0, fmt.Errorf("%s: %s is negative, no token's id, so no generation could end with it: fix the file: %s", path, what, fix)
		case vocab > 0 && n >= int64(vocab):
			return 0, fmt.Errorf("%s: %s is past the model's vocabulary (config.json's vocab_size %d: ids 0 to %d), so no generation could end with it: fix the file: %s", path, what, vocab, vocab-1, fix)
		case n > math.MaxInt32:
			return 0, fmt.Errorf("%s: %s is past any vocabulary (token ids are 32-bit), so no generation could end with it: fix the file: %s", path, what, fix)
		}
		return int32(n), nil
	}
	items, list := hf.NumberOrList(raw)
	ids = make([]int32, 0, len(items))
	for i, v := range items {
		item := 0
		if list {
			item = i + 1
		}
		x, err := check(v, item)
		if err != nil {
			return nil, true, err
		}
		ids = append(ids, x)
	}
	return ids, true, nil
}

// configEOS are config's eos_token_id as token ids. hf.Config.Validate
// has kept them within its vocab_size; one past 32 bits (a vocab_size
// past them, or a config not validated) is refused as eosTokenIDs
// refuses it, naming config.json in dir.
func configEOS(dir string, config hf.Config) ([]int32, error) {
	ids := make([]int32, 0, len(config.EOSTokenID))
	for _, x := range config.EOSTokenID {
		if x < 0 || x > math.MaxInt32 || (config.VocabSize > 0 && x >= config.VocabSize) {
			return nil, fmt.Errorf("%s: eos_token_id %d is no token id the model has (config.json's vocab_size %d), so no generation could end with it: fix the file: write the id of the token that ends a generation, or a list of them, or remove the key",
				filepath.Join(dir, hf.ConfigFile), x, config.VocabSize)
		}
		ids = append(ids, int32(x))
	}
	return ids, nil
}

// readKey is key's value in the JSON object of file name in dir (nil when
// the object has no such key) and the file's path ("" when there is no
// such file). A tokenizer_config.json is read by the one reader of it,
// tokenizer.ParseConfig, and refused as every command refuses it: this
// reader took one that is JSON null for a folder without an eos_token,
// and said one that is no JSON in words of its own.
func readKey(dir, name, key string) (json.RawMessage, string, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s for its %s: %w", path, key, err)
	}
	if name == hf.TokenizerConfigFile {
		obj, err := tokenizer.ParseConfig(path, data)
		if err != nil {
			return nil, "", err
		}
		return obj[key], path, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, "", fmt.Errorf("%s: %s: it must be a JSON object, read for its %s", path, jsonerr.At(data, err), key)
	}
	return obj[key], path, nil
}
