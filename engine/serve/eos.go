package serve

import (
	"encoding/json"
	"errors"
	"fmt"
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
// only when the file is absent).
func ReadEOS(dir string, id func(token string) (int32, bool)) (EOS, error) {
	var eos EOS
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
	vllmRead := false
	for _, name := range []string{hf.GenerationConfigFile, hf.ConfigFile} {
		ids, found, err := eosTokenIDs(dir, name)
		if err != nil {
			return EOS{}, err
		}
		eos.SGLang = add(eos.SGLang, ids...)
		if vllmRead || !found {
			continue // generation_config.json absent: config.json's
		}
		vllmRead = true
		for _, x := range ids {
			if eos.Token == nil || x != *eos.Token {
				eos.More = add(eos.More, x)
			}
		}
	}
	if x, ok := id("<|eom_id|>"); ok {
		eos.SGLang = add(eos.SGLang, x)
	}
	return eos, nil
}

// eosTokenIDs are the eos_token_id (a number or a list) of the JSON file
// name in dir; found says whether there is such a file.
func eosTokenIDs(dir, name string) (ids []int32, found bool, err error) {
	raw, path, err := readKey(dir, name, "eos_token_id")
	if err != nil || path == "" || isNull(raw) {
		return nil, path != "", err
	}
	var one int32
	if json.Unmarshal(raw, &one) == nil {
		return []int32{one}, true, nil
	}
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, true, fmt.Errorf("%s: eos_token_id is %s, not a token id or a list of them: fix the file", path, raw)
	}
	return ids, true, nil
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
