package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"

	"github.com/rlt-workbench/rlt/engine/chatml"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// ChatML markers and Qwen2's end-of-text token (engine/chatml's).
const (
	ImStart   = chatml.ImStart
	ImEnd     = chatml.ImEnd
	EndOfText = chatml.EndOfText
)

// Message is one chat turn.
type Message struct {
	Role, Content string
}

// RenderChatML renders msgs as ChatML, each as
// "<|im_start|>role\ncontent<|im_end|>\n", and with addGenerationPrompt
// opens an assistant turn ("<|im_start|>assistant\n") for the model to
// write. Nothing else is added (Qwen2.5's own template inserts a default
// system message when there is none; give one explicitly if wanted).
func RenderChatML(msgs []Message, addGenerationPrompt bool) string {
	var b strings.Builder
	for _, m := range msgs {
		chatml.WriteTurn(&b, m.Role, m.Content, true)
	}
	if addGenerationPrompt {
		chatml.WriteTurn(&b, "assistant", "", false)
	}
	return b.String()
}

// RenderChatMLPrefill renders msgs, then an assistant turn that is already
// begun with prefill and left open (no "<|im_end|>\n"), so the model
// continues it: the RLT teacher prompt, whose assistant turn starts with
// the solution and the opening explanation tag.
func RenderChatMLPrefill(msgs []Message, prefill string) string {
	return RenderChatML(msgs, true) + prefill
}

// Template names a chat template this package can render.
type Template string

// ChatML is the only template supported.
const ChatML Template = "chatml"

// DetectTemplate reads the chat_template of a tokenizer_config.json and
// tells which template it is. A template that uses <|im_start|> is ChatML;
// any other template is an error. Without a chat_template, ChatML is
// assumed when <|im_start|> is a token of the tokenizer (in the config's
// added_tokens_decoder or special tokens, or in a tokenizer.json beside it).
func DetectTemplate(tokenizerConfigPath string) (Template, error) {
	data, err := os.ReadFile(tokenizerConfigPath)
	if err != nil {
		return "", fmt.Errorf("tokenizer: %w", err)
	}
	return TemplateOf(tokenizerConfigPath, data)
}

// TemplateOf is DetectTemplate of the contents data of the file
// tokenizerConfigPath, for a caller that has read it already.
func TemplateOf(tokenizerConfigPath string, data []byte) (Template, error) {
	return detectTemplate(tokenizerConfigPath, data, func() (*Tokenizer, error) {
		return Load(filepath.Join(filepath.Dir(tokenizerConfigPath), "tokenizer.json"))
	})
}

// detectTemplate is DetectTemplate on the contents data of the file
// tokenizerConfigPath, with besides loading the tokenizer.json beside it.
func detectTemplate(tokenizerConfigPath string, data []byte, besides func() (*Tokenizer, error)) (Template, error) {
	cfg, err := ParseConfig(tokenizerConfigPath, data)
	if err != nil {
		return "", err
	}
	if found, err := TemplateFileOf(filepath.Dir(tokenizerConfigPath)); found {
		if err != nil {
			return "", err
		}
		return ChatML, nil
	}
	if raw, ok := cfg["chat_template"]; ok && !isNull(raw) {
		tmpl, err := chatTemplateText(raw)
		if err != nil {
			return "", &Error{File: tokenizerConfigPath, Key: "chat_template", Msg: err.Error()}
		}
		if strings.Contains(tmpl, ImStart) {
			return ChatML, nil
		}
		return "", &Error{File: tokenizerConfigPath, Key: "chat_template", Msg: notChatML}
	}
	found, key, miss := configHasToken(cfg, ImStart)
	if miss != nil {
		return "", &Error{File: tokenizerConfigPath, Key: key,
			Msg: fmt.Sprintf("%s: write it %q, as transformers reads it (AddedToken(**obj))", miss, miss.Field)}
	}
	if found {
		return ChatML, nil
	}
	if tok, err := besides(); err == nil {
		if _, ok := tok.ID(ImStart); ok {
			return ChatML, nil
		}
	}
	return "", &Error{File: tokenizerConfigPath, Key: "chat_template",
		Msg: "no chat template and no <|im_start|> token: cannot assume ChatML, the only supported template"}
}

// notChatML is the refusal of a chat template that never writes
// <|im_start|>.
const notChatML = "the chat template is not ChatML (it never writes <|im_start|>); only ChatML is supported"

// TemplateFileOf checks the chat template of the model folder dir's
// chat_template.jinja (hf.ChatTemplateFile), where it has one: recent
// transformers versions save a template there, and it reads it before
// tokenizer_config.json's chat_template, which a folder it saved then
// lacks (such a folder with Llama 3's template was taken for ChatML's).
// found is false where dir has no such file; err is an *Error naming the
// file where its template is not ChatML, or the reading's error.
func TemplateFileOf(dir string) (found bool, err error) {
	path := filepath.Join(dir, hf.ChatTemplateFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		// ENOTDIR: dir is a file (a weights file given for its folder),
		// which the folder's own check says in its words.
		return false, nil
	case err != nil:
		return true, fmt.Errorf("tokenizer: %w", err)
	case !strings.Contains(string(data), ImStart):
		return true, &Error{File: path, Msg: notChatML}
	}
	return true, nil
}

// doFixConfig is what to do about a tokenizer_config.json that is no JSON
// object: without the file, a folder is taken as ChatML's where its
// tokenizer has <|im_start|> (DetectTemplate's callers).
const doFixConfig = "fix the file, or remove it"

// ParseConfig reads data, the contents of the tokenizer_config.json at
// path, as the JSON object of the tokenizer's settings it is. A file that
// cannot be read so is an *Error that says which it is, and what to do:
// not valid JSON, at its line and column (or cut short), or valid JSON
// that is not an object (an array, a string…). Both were said as "not a
// JSON object" with encoding/json's words, and no place, by the RLT
// commands' check (rlt.CheckChatML), as a template that is not ChatML
// was said beside them: one owner now reads the file for every caller.
func ParseConfig(path string, data []byte) (map[string]json.RawMessage, error) {
	var cfg map[string]json.RawMessage
	err := json.Unmarshal(data, &cfg)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return nil, &Error{File: path, Msg: fmt.Sprintf("holds a JSON %s, not the object of the tokenizer's settings (chat_template, added_tokens_decoder, …) it should be", te.Value), Do: doFixConfig}
	case err != nil:
		return nil, &Error{File: path, Msg: "not valid JSON: " + jsonerr.At(data, err), Do: doFixConfig}
	case cfg == nil: // null: valid JSON, and no object
		return nil, &Error{File: path, Msg: "holds a JSON null, not the object of the tokenizer's settings (chat_template, added_tokens_decoder, …) it should be", Do: doFixConfig}
	}
	return cfg, nil
}

// chatTemplateText returns the template text: a string, or the one named
// "default" (else the first) of a list of named templates.
func chatTemplateText(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return "", fmt.Errorf("expected a template string or a list of named templates")
	}
	for _, t := range list {
		if t.Name == "default" {
			return t.Template, nil
		}
	}
	return list[0].Template, nil
}

// configHasToken reports whether token is among cfg's added tokens
// (added_tokens_decoder) or special tokens. Their objects' "content" is
// read exactly, as transformers reads it: one written in another case
// ("Content"), which encoding/json would take for it, is the first such
// key of cfg and its *jsonerr.CaseMiss, whatever else is found.
func configHasToken(cfg map[string]json.RawMessage, token string) (found bool, key string, miss *jsonerr.CaseMiss) {
	look := func(at string, raw json.RawMessage) {
		text, ok, m := AddedTokenText(raw)
		if m != nil && miss == nil {
			key, miss = at, m
		}
		found = found || ok && text == token
	}
	var dec map[string]json.RawMessage
	if json.Unmarshal(cfg["added_tokens_decoder"], &dec) == nil {
		for _, id := range slices.Sorted(maps.Keys(dec)) {
			look(fmt.Sprintf("added_tokens_decoder[%q]", id), dec[id])
		}
	}
	var extra []json.RawMessage
	if json.Unmarshal(cfg["additional_special_tokens"], &extra) == nil {
		for i, e := range extra {
			look(fmt.Sprintf("additional_special_tokens[%d]", i), e)
		}
	}
	for _, k := range []string{"bos_token", "eos_token", "pad_token", "unk_token"} {
		look(k, cfg[k])
	}
	if miss != nil {
		return false, key, miss
	}
	return found, "", nil
}

// AddedTokenText reads a special token of a tokenizer_config.json or
// special_tokens_map.json written as its text or as an object with its
// "content" (transformers' AddedToken); ok is false for anything else.
// The key is read exactly, as transformers reads it (AddedToken(**obj), a
// Python keyword): one in another case ("Content"), which encoding/json
// would take for it, is the *jsonerr.CaseMiss returned, so that a file
// transformers reads otherwise is not read otherwise here. ChatML's
// detection and rlt serve's end of sequence (engine/serve) read tokens so.
func AddedTokenText(raw json.RawMessage) (text string, ok bool, miss *jsonerr.CaseMiss) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true, nil
	}
	var o struct {
		Content *string `json:"content"`
	}
	if miss := jsonerr.FindCaseMiss(raw, jsonerr.FieldNames(reflect.TypeOf(o))); miss != nil {
		return "", false, miss
	}
	if json.Unmarshal(raw, &o) == nil && o.Content != nil {
		return *o.Content, true, nil
	}
	return "", false, nil
}
