package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// The fields vLLM's CompletionRequest and SGLang's GenerateReqInput and
// SamplingParams define besides those rlt serve answers (serve.go,
// generate.go) are each, here, either answered as the server would answer
// them for the one greedy token rlt serve generates, or refused with a
// message that names the field: a client never gets an answer computed
// under other settings than it asked without being told. A field neither
// server defines is passed over, as both do (vLLM logs it; SGLang's
// dataclass drops it), unless an earlier vLLM defined it and it asks for
// another answer (best_of, guided_*: vllmFields), or it is one of theirs
// in another case ("Prompt", "Top_P"): their pydantic models match keys
// exactly, so they would pass it over too and answer without it, and
// encoding/json would read it as the field; it is refused, naming the
// field's spelling (decodeBody). In SGLang's sampling_params a key SamplingParams does not
// define is refused, as SGLang refuses it (samplingKeys).
//
// A field is answered as given when it cannot change that answer: the
// generated token is the model's greedy one, which top_p, top_k and min_p
// never exclude and which presence and frequency penalties (counted over
// the tokens generated before it: none) leave as it is; the log-probs are
// the model's. The others are refused unless their value asks nothing.

// fieldRule checks one request field's value: the zero ruling when rlt
// serve answers it as the server would, else why it does not.
type fieldRule func(raw json.RawMessage) ruling

// ruling is a fieldRule's word on a value: why it is refused ("": it is
// not), and whether that is a type fault, one vLLM's pydantic model makes
// as it reads the body, before the model is looked up (typeFaults): a
// value not of the field's type (notNumber, notWhole, notBool, notText,
// notTexts, notObject), or refused by pydantic-core in its own words
// (intTooBig, notFinite, a Field bound: pydanticIntIn). Another refusal
// is of a value of the right type, which vLLM makes later
// (SamplingParams' bounds) or not at all (what rlt serve refuses). The
// rule that refuses says which it is, so no message is read back to
// tell.
type ruling struct {
	why    string
	ofType bool
}

// refuse is a refusal of a value for why, not a type fault.
func refuse(why string) ruling { return ruling{why: why} }

// typeFault is the type fault format says (notNumber, notBool, intTooBig,
// notFinite...), with raw put in as given.
func typeFault(format string, raw json.RawMessage) ruling {
	return ruling{why: fmt.Sprintf(format, asGiven(raw)), ofType: true}
}

// refusal is why a field is refused, said with its name (path: where it
// is in the request) unless the server's own words begin with it or are
// a sentence of their own.
func refusal(path, field, why string) string {
	switch {
	case strings.HasPrefix(why, field):
		return path + why[len(field):]
	case pydanticWords(why): // pydantic-core's message, which names no field
		return path + ": " + why
	case why != "" && (unicode.IsUpper(rune(why[0])) || why[0] == '`'): // a sentence, or one naming the field as vLLM quotes it
		return why
	}
	return path + " " + why
}

// checkFields applies rules to the fields of obj, in the order of their
// names; it returns the first field refused and why.
func checkFields(obj map[string]json.RawMessage, rules map[string]fieldRule) (field, why string) {
	names := make([]string, 0, len(obj))
	for name := range obj {
		if rules[name] != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		if r := rules[name](obj[name]); r.why != "" {
			return name, r.why
		}
	}
	return "", ""
}

// unset reports whether raw asks nothing: absent, null, false, or an
// empty list or object.
func unset(raw json.RawMessage) bool {
	switch string(bytes.TrimSpace(raw)) {
	case "", "null", "false", "[]", "{}":
		return true
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) == 0 {
		return true
	}
	var obj map[string]json.RawMessage
	return json.Unmarshal(raw, &obj) == nil && len(obj) == 0
}

// answered is a field whose every value rlt serve answers as the server
// does (a hint on where or how to log or cache, or on what the one token
// leaves alone).
func answered(json.RawMessage) ruling { return ruling{} }

// refusedIfSet refuses any value of a field but one that asks nothing.
func refusedIfSet(why string) fieldRule {
	return func(raw json.RawMessage) ruling {
		if unset(raw) {
			return ruling{}
		}
		return refuse(why)
	}
}

// refusedIfTruthy refuses a value Python reads as true (pyTruthy), for
// why: a field SGLang asks of with "if obj.field:", so that "" or 0 asks
// nothing.
func refusedIfTruthy(why string) fieldRule {
	return func(raw json.RawMessage) ruling {
		if !pyTruthy(raw) {
			return ruling{}
		}
		return refuse(why)
	}
}

// refusedUnlessNull refuses any value but null, for why: a field SGLang
// asks of with "is not None", so that 0 and false ask as much as 5.
func refusedUnlessNull(why string) fieldRule {
	return func(raw json.RawMessage) ruling {
		if isNull(raw) {
			return ruling{}
		}
		return refuse(why)
	}
}

// pyTruthy is Python's truth of raw, a JSON value as Python's json reads
// it: false for null (or absent), false, 0, "", [] and {}; true for any
// other (nan too).
func pyTruthy(raw json.RawMessage) bool {
	switch x := jsonValue(raw).(type) {
	case bool:
		return x
	case json.Number:
		f, ok := jsonFloat(x)
		return !ok || f != 0 // nan is true
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return false // absent or null
}

// refusedUnless refuses a number other than def (null is def), read by
// read, for why; a value read refuses (no number, or none the field
// takes: its fault) is refused as inRange refuses it, a type fault,
// which vLLM's pydantic model makes before the model is looked up.
func refusedUnless(read laxNumber, def float64, why string) fieldRule {
	return func(raw json.RawMessage) ruling {
		if isNull(raw) {
			return ruling{}
		}
		v, _, fault := read(raw)
		switch {
		case fault != "":
			return typeFault(fault, raw)
		case v == def:
			return ruling{}
		}
		return refuse(why)
	}
}

// inRange answers a number within [lo, hi] (an open end excluding it),
// read as the server reads it (read: jsonNumber, vllmFloat, vllmInt),
// and refuses another in the server's words, say, with the value put in
// for %s: as given where JSON gives a number, else as Python writes
// what it read (vLLM's top_p "1.5" is 1.5, its top_k true is 1).
func inRange(read laxNumber, lo, hi float64, loOpen bool, say string) fieldRule {
	return func(raw json.RawMessage) ruling {
		if isNull(raw) {
			return ruling{}
		}
		v, show, fault := read(raw)
		if fault != "" { // no number, or none the field takes: pydantic's
			return typeFault(fault, raw)
		}
		if v < lo || v > hi || loOpen && v == lo || math.IsNaN(v) {
			return refuse(fmt.Sprintf(say, show))
		}
		return ruling{}
	}
}

// whole is rule for a field that takes a whole number: another number is
// refused, a type fault.
func whole(rule fieldRule) fieldRule {
	return func(raw json.RawMessage) ruling {
		var v float64
		if !isNull(raw) && json.Unmarshal(raw, &v) == nil && v != math.Trunc(v) {
			return typeFault(notWhole, raw)
		}
		return rule(raw)
	}
}

const (
	whyOneToken   = "rlt serve generates one token, the model's greedy one"
	whyChangesArg = "changes which token is generated; " + whyOneToken + ": leave it out"
	whyNoAdapters = "is not served: rlt serve serves one model, without adapters"
	whyNoEmbeds   = "is not served: give input_ids or text"
)

// vllmFields are the rules of vLLM v0.24.0's CompletionRequest fields
// that parseCompletions does not read itself (vllm/entrypoints/openai/
// completion/protocol.py), and of fields earlier releases defined that
// clients still send and that would change the answer: best_of (removed
// in v0.12, vLLM's PR 29090) and the guided decoding fields (removed in
// v0.12 for structured_outputs), which v0.24.0 passes over unread, as it
// passes over every field it does not define, where rlt serve refuses a
// value that asks something (not a type fault: v0.24.0's pydantic model
// reads none of them). Fields no release defined are passed over as
// v0.24.0 passes them over (max_repetition_pattern_size,
// min_repetition_pattern_size and repetition_min_count were proposed flat
// but released within repetition_detection, in v0.17).
var vllmFields = map[string]fieldRule{
	// Answered: no effect on the one greedy token, or a hint.
	"user":                          answered,
	"seed":                          pydanticIntIn(minInt64, maxInt64, true, answered), // the greedy token is the same whatever the seed
	"vllm_xargs":                    answered,                                          // read by plugins only; stock vLLM ignores them too
	"add_special_tokens":            vllmBool(false),                                   // our byte-level tokenizers add nothing around a text either way
	"spaces_between_special_tokens": vllmBool(false),                                   // vLLM's fast detokenizer changes nothing for a first generated token
	"length_penalty":                answered,                                          // beam search's only, which is refused
	"session_id":                    answered,
	"return_token_offsets":          vllmBool(true),                                     // read by the render endpoints only
	"return_mm_kwargs":              vllmBool(false),                                    // read by the render endpoints only
	"routed_experts_prompt_start":   pydanticIntIn(big.NewInt(0), nil, false, answered), // read with routed experts only: rlt serve's models have none
	"stream_interval":               pydanticIntIn(big.NewInt(1), nil, true, answered),  // read when streaming only, which is refused
	"truncation_side": func(raw json.RawMessage) ruling { // read with truncate_prompt_tokens only, which is refused
		var side *string
		if json.Unmarshal(raw, &side) == nil && (side == nil || *side == "left" || *side == "right") {
			return ruling{}
		}
		return refuse(fmt.Sprintf(`truncation_side must be "left" or "right", got %s`, asGiven(raw)))
	},
	"frequency_penalty": inRange(vllmFloat, -2, 2, false, "frequency_penalty must be in [-2, 2], got %s."),
	"presence_penalty":  inRange(vllmFloat, -2, 2, false, "presence_penalty must be in [-2, 2], got %s."),
	"top_p":             inRange(vllmFloat, 0, 1, true, "top_p must be in (0, 1], got %s."),
	"top_k":             inRange(vllmInt, -1, math.MaxInt32, false, "top_k must be 0 (disable), or at least 1, got %s."),
	"min_p":             inRange(vllmFloat, 0, 1, false, "min_p must be in [0, 1], got %s."),
	"cache_salt": func(raw json.RawMessage) ruling {
		var s *string
		if json.Unmarshal(raw, &s) == nil && (s == nil || *s != "") {
			return ruling{}
		}
		return refuse("Parameter 'cache_salt' must be a non-empty string if provided.")
	},
	"stream_options": refusedIfSet("Stream options can only be defined when `stream=True`."), // vLLM's words; stream is refused
	"priority": pydanticIntIn(minInt64, maxInt64, false, func(raw json.RawMessage) ruling {
		// A whole number within int64 (pydanticIntIn refuses null and
		// any other value first).
		if p, show, _ := vllmInt(raw); p != 0 {
			return refuse(fmt.Sprintf("Got priority %s but Priority scheduling is not enabled.", show)) // vLLM's words: rlt serve answers requests in the order they came
		}
		return ruling{}
	}),
	"response_format": func(raw json.RawMessage) ruling {
		// "type" as written: vLLM's ResponseFormat is a pydantic model,
		// whose keys match exactly ("Type" is not it).
		var f map[string]json.RawMessage
		var typ string
		if isNull(raw) || json.Unmarshal(raw, &f) == nil && json.Unmarshal(f["type"], &typ) == nil && typ == "text" {
			return ruling{}
		}
		return refuse("constrains the generated text; " + whyOneToken + ": leave it out, or give {\"type\": \"text\"}")
	},
	// Refused: each would change the token, the prompt or the answer's
	// shape.
	"suffix":            typed(textType, refusedIfSet("suffix is not currently supported")), // vLLM's words
	"logits_processors": refusedIfSet(whyChangesArg),
	"watermarking":      refusedIfTrue(true, whyChangesArg),
	"logprob_token_ids": func(raw json.RawMessage) ruling {
		var ids []json.RawMessage
		switch {
		case isNull(raw):
			return ruling{}
		case json.Unmarshal(raw, &ids) == nil && len(ids) == 0:
			return refuse("`logprob_token_ids` must not be an empty list.") // vLLM's words
		}
		return refuse("is not served: ask logprobs N for the N most likely tokens")
	},
	"repetition_detection":   typed(objectType, refusedIfSet("is not served: "+whyOneToken+", which repeats nothing")),
	"ec_transfer_params":     typed(objectType, refusedIfSet("is not served: rlt serve has no disaggregated encoder cache")),
	"structured_outputs":     typed(objectType, refusedIfSet(whyChangesArg)),
	"guided_json":            refusedIfSet(whyChangesArg),
	"guided_regex":           refusedIfSet(whyChangesArg),
	"guided_choice":          refusedIfSet(whyChangesArg),
	"guided_grammar":         refusedIfSet(whyChangesArg),
	"repetition_penalty":     refusedUnless(vllmFloat, 1, "penalizes the prompt's tokens, so "+whyChangesArg+" (or give 1)"),
	"use_beam_search":        refusedIfTrue(false, "is not served: "+whyOneToken),
	"best_of":                bestOf,
	"truncate_prompt_tokens": pydanticIntIn(big.NewInt(-1), maxInt64, true, refusedIfSet("is not served: rlt serve scores the whole prompt; cut it yourself")),
	"prompt_embeds":          typed(textsType, refusedIfSet("is not served: give the prompt as token ids or text")),
	"return_token_ids":       refusedIfTrue(true, "is not served: the prompt's ids are the ones sent, and with logprobs and return_tokens_as_token_ids each token's id is its \"token_id:<id>\""),
	"kv_transfer_params":     typed(objectType, refusedIfSet("is not served: rlt serve has no disaggregated prefill")),
	"thinking_token_budget":  thinkingTokenBudget,
}

// bestOf answers best_of null or 1 (one sequence; "1", 1.0 and true too,
// as earlier vLLMs read an int field) and refuses another value: vLLM
// v0.24.0 defines no best_of and answers without it (vllmFields), where
// the client asked for the best of several sequences.
func bestOf(raw json.RawMessage) ruling {
	if isNull(raw) {
		return ruling{}
	}
	if n, _, fault := vllmInt(raw); fault == "" && n == 1 {
		return ruling{}
	}
	return refuse(fmt.Sprintf("asks for the best of several sequences (got %s), a field vLLM v0.24.0 no longer defines and passes over; %s: leave it out, or give 1", asGiven(raw), whyOneToken))
}

// thinkingTokenBudget is vLLM v0.24.0's thinking_token_budget, read by
// its ThinkingTokenBudget validator (its PR 43402) before pydantic's lax
// reading: null, or an integer as Python's json gives it (no float such
// as 2.0, no true or text), -1 (unlimited, as unset) or at least 0;
// another value it refuses as it reads the body, before the model is
// looked up (a type fault here), in its words, the value said as given
// (vLLM writes Python's str of it: True for true). -1 is answered; a
// budget of 0 or more is refused, rlt serve having no reasoning parser
// to count thinking tokens by.
func thinkingTokenBudget(raw json.RawMessage) ruling {
	if isNull(raw) {
		return ruling{}
	}
	budget, isInt := new(big.Int), false
	if num, ok := jsonValue(raw).(json.Number); ok {
		budget, isInt = jsonBigInt(num.String())
	}
	switch {
	case !isInt || budget.Cmp(big.NewInt(-1)) < 0:
		return typeFault(badThinkingBudget, raw)
	case budget.Cmp(big.NewInt(-1)) == 0:
		return ruling{}
	}
	return refuse("is not served: rlt serve has no reasoning parser to count thinking tokens by; leave it out, or give -1")
}

// vllmModelFields are the rules of the vllmFields that vLLM's pydantic
// model refuses (a field constraint, a model validator), which vLLM
// makes as it reads the body: before it looks the model up, and before it
// reads logit_bias's keys; vllmSamplingFields are the others, checked
// after those keys (parseCompletions): the bounds SamplingParams checks
// once it has read them, and the fields refused here that vLLM would
// answer. logprob_token_ids is in both: vLLM's model refuses an empty
// list; any other is refused here, where vLLM answers it.
var vllmModelFields, vllmSamplingFields = func() (model, sampling map[string]fieldRule) {
	model, sampling = splitRules(vllmFields, "routed_experts_prompt_start", "stream_interval", "truncation_side", "cache_salt", "stream_options",
		"seed", "add_special_tokens", "spaces_between_special_tokens", "return_token_offsets", "return_mm_kwargs")
	model["logprob_token_ids"] = func(raw json.RawMessage) ruling {
		var ids []json.RawMessage
		if !isNull(raw) && json.Unmarshal(raw, &ids) == nil && len(ids) == 0 {
			return refuse("`logprob_token_ids` must not be an empty list.") // vLLM's words
		}
		return ruling{}
	}
	return model, sampling
}()

// vllmReadBools are the rules of the yes/no fields that parseCompletions
// reads itself (laxBool): their values were read as it decoded them, but
// null is read only where vLLM's field is optional (echo, stream,
// return_tokens_as_token_ids: bool | None); these are not, and pydantic
// refuses null, before the model is looked up.
var vllmReadBools = map[string]fieldRule{
	"include_stop_str_in_output": vllmBool(false),
	"ignore_eos":                 vllmBool(false),
	"skip_special_tokens":        vllmBool(false),
}

// Type faults, the refusals of inRange and refusedUnless that say the
// value is not a number, or not a whole one, where the field takes one,
// of vllmBool and refusedIfTrue that say it is not yes or no, and of
// typed that say it is not the text, texts or object the field takes,
// each marked so (ruling.ofType): vLLM's pydantic model refuses those
// before the model is looked up (typeFaults), whatever the field's
// bounds, which SamplingParams checks later. What its lax mode reads as a
// number (true, false, "0.5": vllmFloat, vllmInt) or as yes or no ("no",
// 0: laxBoolOf) is read so, and is no type fault. Besides these, said in
// our words as before, pydantic-core's refusals of another kind are said
// in its own (pydanticWords): an int field's float past int64's range or
// text past 4300 characters (int_parsing_size), its infinity or NaN
// (finite_number), a bound of Field(ge, le) (pydanticIntIn).
const (
	notNumber = "must be a number, got %s"
	notWhole  = "must be a whole number, got %s"
	notBool   = "must be true or false, got %s"
	notText   = "must be a text, got %s"
	notTexts  = "must be a text or a list of texts, got %s"
	notObject = "must be an object, got %s"

	// badThinkingBudget is vLLM's ThinkingTokenBudget validator's refusal
	// (thinkingTokenBudget).
	badThinkingBudget = "`thinking_token_budget` must be a non-negative integer or -1 for unlimited. (parameter=thinking_token_budget, value=%s)"

	intTooBig  = "Unable to parse input string as an integer, exceeded maximum size, got %s"
	notFinite  = "Input should be a finite number, got %s"
	belowBound = "Input should be greater than or equal to %d, got %s"
	aboveBound = "Input should be less than or equal to %d, got %s"
)

// pydanticWords reports whether why is said in pydantic-core's words.
func pydanticWords(why string) bool {
	return strings.HasPrefix(why, "Input should be ") || strings.HasPrefix(why, "Unable to parse input string")
}

// typeFaults is checkFields with only rules' type faults (ruling.ofType)
// refused.
func typeFaults(obj map[string]json.RawMessage, rules map[string]fieldRule) (field, why string) {
	typed := map[string]fieldRule{}
	for name, rule := range rules {
		typed[name] = func(raw json.RawMessage) ruling {
			if r := rule(raw); r.ofType {
				return r
			}
			return ruling{}
		}
	}
	return checkFields(obj, typed)
}

// fieldType is a type pydantic checks of a field that typed refuses
// another value of: whether a value is of it, and the fault said of one
// that is not (notText, notTexts, notObject).
type fieldType struct {
	is    func(raw json.RawMessage) bool
	fault string
}

// decodesAs reports whether raw decodes as a T.
func decodesAs[T any](raw json.RawMessage) bool {
	var v T
	return json.Unmarshal(raw, &v) == nil
}

var (
	textType   = fieldType{decodesAs[string], notText}
	textsType  = fieldType{func(raw json.RawMessage) bool { return decodesAs[string](raw) || decodesAs[[]string](raw) }, notTexts} // bytes | list[bytes]: pydantic reads a text as bytes
	objectType = fieldType{decodesAs[map[string]json.RawMessage], notObject}
)

// typed is rule for a field whose type pydantic checks (as it reads the
// body, before the model is looked up: typeFaults): a value of another
// type is refused so (t's fault, a type fault), null passing (the field
// is optional); a value of its type goes on to rule.
func typed(t fieldType, rule fieldRule) fieldRule {
	return func(raw json.RawMessage) ruling {
		if !isNull(raw) && !t.is(raw) {
			return typeFault(t.fault, raw)
		}
		return rule(raw)
	}
}

// checkFieldsInOrder is checkFields of the rules of names only, applied
// in that order (the order the server checks them in).
func checkFieldsInOrder(obj map[string]json.RawMessage, rules map[string]fieldRule, names ...string) (field, why string) {
	for _, name := range names {
		if raw, ok := obj[name]; ok && rules[name] != nil {
			if r := rules[name](raw); r.why != "" {
				return name, r.why
			}
		}
	}
	return "", ""
}

// splitRules splits rules into those of names and the others.
func splitRules(rules map[string]fieldRule, names ...string) (of, others map[string]fieldRule) {
	of, others = map[string]fieldRule{}, map[string]fieldRule{}
	for name, rule := range rules {
		if slices.Contains(names, name) {
			of[name] = rule
		} else {
			others[name] = rule
		}
	}
	return of, others
}

// sglangFields are the rules of SGLang's GenerateReqInput fields that
// parseGenerate does not read itself (python/sglang/srt/managers/
// io_struct.py).
var sglangFields = map[string]fieldRule{
	// Answered: where the request runs, how it is logged or cached.
	"session_id": answered, "log_metrics": answered, "routed_dp_rank": answered, "data_parallel_rank": answered,
	"disagg_prefill_dp_rank": answered, "kv_router_hint": answered, "routing_key": answered, "conversation_id": answered,
	"priority": answered, "extra_key": answered, "cache_salt": answered, "no_logs": answered, "custom_labels": answered,
	"external_trace_header": answered, "received_time": answered, "bootstrap_host": answered, "bootstrap_port": answered,
	"bootstrap_room": answered, "bootstrap_pair_key": answered, "decode_tp_size": answered, "http_worker_ipc": answered,
	"background": answered, "routed_experts_start_len": answered, // read only with return_routed_experts, refused
	// input_embeds beside text or input_ids SGLang drops as it
	// normalizes the request (GenerateReqInput._determine_batch_size),
	// and answers without it; alone it is refused where SGLang refuses it
	// (parseInputs, parseGenerate).
	"input_embeds": answered,
	// Refused: other inputs, other outputs, or a changed generation.
	"image_data":                       refusedIfSet("is not served: rlt serve's models read text only"),
	"video_data":                       refusedIfSet("is not served: rlt serve's models read text only"),
	"audio_data":                       refusedIfSet("is not served: rlt serve's models read text only"),
	"mm_hashes":                        refusedIfSet("is not served: rlt serve's models read text only"),
	"mm_content_hashes":                refusedIfSet("is not served: rlt serve's models read text only"),
	"use_audio_in_video":               refusedIfSet("is not served: rlt serve's models read text only"),
	"video_config":                     refusedIfSet("is not served: rlt serve's models read text only"),
	"modalities":                       refusedIfSet("is not served: rlt serve's models read text only"),
	"max_dynamic_patch":                refusedIfSet("is not served: rlt serve's models read text only"),
	"min_dynamic_patch":                refusedIfSet("is not served: rlt serve's models read text only"),
	"image_max_dynamic_patch":          refusedIfSet("is not served: rlt serve's models read text only"),
	"video_max_dynamic_patch":          refusedIfSet("is not served: rlt serve's models read text only"),
	"images_config":                    refusedIfSet("is not served: rlt serve's models read text only"),
	"token_ids_logprob":                refusedIfSet("is not served: ask top_logprobs_num, or the vLLM endpoint's prompt_logprobs"),
	"return_sampling_mask":             refusedIfSet("is not served: " + whyOneToken),
	"return_flat_raw_top_logprobs":     refusedIfSet("is not served: the top log-probs come as [logprob, id, text] triples"),
	"return_flat_raw_top_logprobs_b64": refusedIfSet("is not served: the top log-probs come as [logprob, id, text] triples"),
	"return_hidden_states":             refusedIfSet("is not served"),
	"return_routed_experts":            refusedIfSet("is not served: rlt serve's models have no experts"),
	"return_indexer_topk":              refusedIfSet("is not served"),
	"return_bytes":                     refusedIfSet("is not served"),
	"return_entropy":                   refusedIfSet("is not served"),
	"return_prompt_token_ids":          refusedIfSet("is not served: the input's ids are input_ids, or /tokenize's of the text"),
	"session_params":                   refusedIfSet("is not served: rlt serve keeps no sessions; give the whole input"),
	"lora_path":                        refusedIfTruthy(whyNoAdapters), // "" asks none: sglangLoRAAsked
	"lora_id":                          refusedIfSet(whyNoAdapters),
	"custom_logit_processor":           refusedIfTruthy(whyChangesArg), // "" asks none, as SGLang's "if obj.custom_logit_processor"
	"positional_embed_overrides":       refusedIfSet(whyNoEmbeds),
	"require_reasoning":                refusedIfSet("is not served: " + whyOneToken),
	"max_thinking_tokens":              refusedUnlessNull("is not served: " + whyOneToken), // 0 and false too: SGLang's "is not None"
	"multi_item_delimiter_indices":     refusedIfSet("is not served: give the items as a list of inputs"),
	"need_wait_for_mm_inputs":          refusedIfSet("is not served: rlt serve's models read text only"),
	"num_items_assigned":               refusedIfSet("is not served: rlt serve's models read text only"),
	"encoder_urls":                     refusedIfSet("is not served: rlt serve's models read text only"),
}

// sglangSamplingFields are the rules of SGLang's SamplingParams fields
// that parseGenerate does not read itself (python/sglang/srt/sampling/
// sampling_params.py). With max_new_tokens at most 1, SGLang's
// Req.check_finished ends every generation by its length before it looks
// at a stop string, a stop token or the end of sequence, so those change
// nothing: answered (stop_regex when it parses: stopRegex; stop_token_ids
// are read for min_new_tokens, which holds them back: holdback.go).
var sglangSamplingFields = map[string]fieldRule{
	"stop": sglangStop, "stop_regex": stopRegex, "ignore_eos": answered, "no_stop_trim": answered,
	// SamplingParams' own state, which it sets from the fields above over
	// any value given (__post_init__, normalize); is_normalized true would
	// keep it from reading them.
	"stop_strs": answered, "stop_regex_strs": answered, "stop_str_max_len": answered, "stop_regex_max_len": answered,
	"is_normalized": refusedIfSet("is SGLang's own state, set once it has read the other fields (true keeps it from reading them): leave it out"),
	"sampling_seed": answered, "stream_interval": answered, "custom_params": answered, "spaces_between_special_tokens": answered,
	"frequency_penalty":  inRange(jsonNumber, -2, 2, false, "frequency_penalty must be in [-2, 2], got %s."),
	"presence_penalty":   inRange(jsonNumber, -2, 2, false, "presence_penalty must be in [-2, 2], got %s."),
	"top_p":              inRange(jsonNumber, 0, 1, true, "top_p must be in (0, 1], got %s."),
	"min_p":              inRange(jsonNumber, 0, 1, false, "min_p must be in [0, 1], got %s."),
	"top_k":              sglangTopK,
	"n":                  whole(inRange(jsonNumber, 1, math.MaxInt32, false, "n must be a whole number of at least 1, got %s")), // n > 1: parallelSamples
	"repetition_penalty": sglangRepetitionPenalty,
	"json_schema":        refusedIfSet(whyChangesArg),
	"regex":              refusedIfSet(whyChangesArg),
	"ebnf":               refusedIfSet(whyChangesArg),
	"structural_tag":     refusedIfSet(whyChangesArg),
}

// sglangRefusedFirst are the sglangFields SGLang itself refuses on a
// server launched as rlt serve is (no --enable-strict-thinking, no
// --enable-lora), in the order it refuses them, once it has normalized
// the request and before it reads any input (parseGenerate): they are
// refused there, not after every input's checks with the fields rlt serve
// refuses and SGLang answers. max_thinking_tokens is refused unless null
// (0 too); lora_path where it asks for an adapter as SGLang reads it
// (sglangLoRAAsked: "" of one input asks none).
var sglangRefusedFirst = []string{"max_thinking_tokens", "lora_path"}

// sglangLoRAAsked reports whether lora_path, raw, asks for an adapter as
// SGLang reads it once it has normalized the request
// (TokenizerManager._validate_and_resolve_lora: "if not obj.lora_path"):
// of one input, a value Python reads as true (not null, "" or []); of a
// list of inputs (list), where GenerateReqInput._normalize_lora_paths has
// made a text one per input, any text ("" too: a list of them is true),
// a list of any entry, and any other value (which it refuses too).
func sglangLoRAAsked(raw json.RawMessage, list bool) bool {
	if !list {
		return pyTruthy(raw)
	}
	if isNull(raw) {
		return false
	}
	var entries []json.RawMessage
	if json.Unmarshal(raw, &entries) == nil {
		return len(entries) > 0
	}
	return true
}

// sglangRefusedPerInput are the sglangFields SGLang itself refuses of
// each input on a server launched as rlt serve is (hidden states not
// captured, no custom logit processors), in the order
// TokenizerManager._validate_one_request refuses them: after that
// input's length and max_new_tokens, before its sampling_params
// (parseGenerate), each input's own value where a list of inputs gives a
// list of them (custom_logit_processor "" asks none: refusedIfTruthy).
var sglangRefusedPerInput = []string{"return_hidden_states", "custom_logit_processor"}

// sglangVerifyOrder are the sglangSamplingFields SamplingParams.verify
// bounds, in the order it checks them: after temperature, before
// min_new_tokens and max_new_tokens (parseGenerate). Of a request with two
// of them out of bounds, the first refused is the one SGLang reports.
var sglangVerifyOrder = []string{"top_p", "min_p", "top_k", "frequency_penalty", "presence_penalty", "repetition_penalty"}

// sglangVerified are the rules of sglangVerifyOrder's fields as verify
// checks them: their bounds. top_k that is no whole number and
// repetition_penalty other than 1, which verify passes and rlt serve
// refuses, are refused by sglangSamplingFields' rules, once every check
// of SGLang's has passed.
var sglangVerified = map[string]fieldRule{
	"top_p":              sglangSamplingFields["top_p"],
	"min_p":              sglangSamplingFields["min_p"],
	"top_k":              sglangTopKBounds,
	"frequency_penalty":  sglangSamplingFields["frequency_penalty"],
	"presence_penalty":   sglangSamplingFields["presence_penalty"],
	"repetition_penalty": sglangRepetitionPenaltyBounds,
}

// sglangTopK is SGLang's top_k, a number as Python's json gives it (nan
// and ±inf too: jsonNumber) that SamplingParams.verify takes where it is
// -1 or at least 1 (nan and inf too: Python's comparisons with nan are
// false); another is refused in its words, -inf among them, as Python
// writes it (sglangTopKBounds). One it takes that is no whole number is
// refused so: SGLang's scheduler puts each top_k in an int32 tensor
// (SamplingBatchInfo's top_ks), where nan and inf fail and 2.5 would be
// 2. A value that is no number is refused in verify's words, as given, as
// before.
func sglangTopK(raw json.RawMessage) ruling {
	if r := sglangTopKBounds(raw); r.why != "" || isNull(raw) {
		return r
	}
	if k, show, _ := jsonNumber(raw); math.IsInf(k, 0) || k != math.Trunc(k) { // nan too
		return refuse(fmt.Sprintf(notWhole, show))
	}
	return ruling{}
}

// sglangTopKBounds is sglangTopK's refusals that verify makes.
func sglangTopKBounds(raw json.RawMessage) ruling {
	if isNull(raw) {
		return ruling{}
	}
	k, show, fault := jsonNumber(raw)
	switch {
	case fault != "":
		return refuse(fmt.Sprintf("top_k must be -1 (disable) or at least 1, got %s.", asGiven(raw))) // SGLang's words
	case k < 1 && k != -1:
		return refuse(fmt.Sprintf("top_k must be -1 (disable) or at least 1, got %s.", show))
	}
	return ruling{}
}

// sglangRepetitionPenalty is SGLang's repetition_penalty: a number as
// Python's json gives it (jsonNumber), refused out of verify's (0, 2] in
// its words (nan and ±inf too: sglangRepetitionPenaltyBounds), and
// refused but for 1, which changes nothing.
func sglangRepetitionPenalty(raw json.RawMessage) ruling {
	if r := sglangRepetitionPenaltyBounds(raw); r.why != "" {
		return r
	}
	if p, _, _ := jsonNumber(raw); !isNull(raw) && p != 1 {
		return refuse(whyChangesArg + " (or give 1)")
	}
	return ruling{}
}

var sglangRepetitionPenaltyBounds = inRange(jsonNumber, 0, 2, true, "repetition_penalty must be in (0, 2] (1.0 = no penalty), got %s.")

// countSet is how many of names obj gives a value other than null
// (Python's "is not None").
func countSet(obj map[string]json.RawMessage, names ...string) int {
	n := 0
	for _, name := range names {
		if raw, ok := obj[name]; ok && !isNull(raw) {
			n++
		}
	}
	return n
}

// sglangStop answers SGLang's stop, a string or a list of them, when each
// is a string its tokenizer can encode. SGLang reads them whatever
// max_new_tokens (SamplingParams.normalize tokenizes each for
// stop_str_max_len, before it parses stop_regex), so a value of another
// shape (a number, a list holding null or a number: a TypeError there,
// SGLang's 500) or a string holding half a UTF-16 surrogate pair (its
// tokenizer's UnicodeEncodeError, a ValueError) is never answered there:
// here it is refused with a 400 naming it. One that reads changes nothing
// of the answer, unlike /v1/completions' stop (vLLM matches a stop string
// on the one token generated too): with max_new_tokens at most 1,
// SGLang's Req.check_finished ends the generation by its length before it
// matches a stop string (FINISH_LENGTH; the detokenizer cuts the text at
// a match only for FINISH_MATCHED_STR), so the text is the whole token's
// and finish_reason "length", as SGLang answers them.
func sglangStop(raw json.RawMessage) ruling {
	if isNull(raw) {
		return ruling{}
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if err := jsonerr.Surrogates("stop", raw); err != nil {
			return refuse(err.Error())
		}
		return ruling{}
	}
	var list []*string
	if json.Unmarshal(raw, &list) != nil {
		return refuse(fmt.Sprintf("stop must be a string or a list of strings, got %s", asGiven(raw)))
	}
	es := jsonerr.Elements(raw)
	for i, s := range list {
		if s == nil {
			return refuse(fmt.Sprintf("stop[%d] must be a string, got null", i))
		}
		if i < len(es) {
			if err := jsonerr.Surrogates(fmt.Sprintf("stop[%d]", i), es[i]); err != nil {
				return refuse(err.Error())
			}
		}
	}
	return ruling{}
}

// stopRegex answers SGLang's stop_regex, one regular expression or a list
// of them, when each parses. A one-token generation ends before SGLang
// matches one, but SGLang parses each first, whatever max_new_tokens
// (SamplingParams.normalize bounds the length of its match with
// sre_parse.parse, which raises re.error), so one that does not parse is
// never answered there: here it is refused with a 400 that names it and
// what is wrong. SGLang parses it with Python's re; here Go's regexp/syntax
// reads it (RE2, the syntax Go has): Python's lookarounds, backreferences
// and repeat counts above 1000 are refused, saying so, where SGLang would
// answer.
func stopRegex(raw json.RawMessage) ruling {
	if isNull(raw) {
		return ruling{}
	}
	var one string
	list := []string{}
	isOne := json.Unmarshal(raw, &one) == nil
	switch {
	case isOne:
		list = []string{one}
	case json.Unmarshal(raw, &list) != nil:
		return refuse(fmt.Sprintf("stop_regex must be a regular expression or a list of them, got %s", asGiven(raw)))
	}
	for i, expr := range list {
		_, err := syntax.Parse(expr, syntax.Perl)
		if err == nil {
			continue
		}
		name := "stop_regex"
		if !isOne {
			name = fmt.Sprintf("stop_regex[%d]", i)
		}
		why := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		var se *syntax.Error
		if errors.As(err, &se) && (se.Code == syntax.ErrInvalidPerlOp || se.Code == syntax.ErrInvalidEscape || se.Code == syntax.ErrInvalidRepeatSize) {
			why += " (rlt serve reads stop_regex in Go's RE2 syntax, which has no lookarounds or backreferences and repeats at most 1000 times)"
		}
		return refuse(fmt.Sprintf("%s %q is not a regular expression: %s", name, expr, why))
	}
	return ruling{}
}
