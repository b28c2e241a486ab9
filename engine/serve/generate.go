package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strconv"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// generateItem is one input of a /generate request and what is asked of
// it: the input is IDs (not checked against a vocabulary) or Text, never
// both.
type generateItem struct {
	In            prompt
	MaxNew        int     // 0 or 1
	Temperature   float64 // > 0
	ReturnLogprob bool
	Start         int    // logprob_start_len; < 0: none
	TopNum        int    // top_logprobs_num ≥ 0
	RID           string // the meta_info id asked ("rid"); "": the server's own
	SkipSpecial   bool   // sampling_params.skip_special_tokens (true by default)
	// MinNew is sampling_params.min_new_tokens, 0 or MaxNew; StopTokenIDs
	// its stop_token_ids; LogitBias its logit_bias. What they hold back
	// from the generated token, or bias it by, is Bias, once the server
	// has read it (sglangBias; nil: nothing).
	MinNew       int
	StopTokenIDs []int64
	LogitBias    logitBiasField
	Bias         *rlt.LogitBias
	// Encoded is a text input's tokens, encoded once, where parseGenerate
	// checked its length against the model (nil for input_ids).
	Encoded []int32
}

// generateRequest is a /generate body as rlt serve takes it: one input, or
// a list of them (SGLang's batch request), answered by a list of the
// objects each would get alone, in order.
type generateRequest struct {
	Items         []generateItem
	List          bool // the inputs came as a list, or Samples > 1: the answer is a list
	TextInLogprob bool // return_text_in_logprobs, for every input
	// Samples is sampling_params' n: each input is answered so many
	// times, in a row, each answer with an id of the server's own
	// (SGLang's parallel sampling gives each sample a new rid). Only at
	// temperature 0, where SGLang's samples are its greedy token each.
	Samples int
}

// itemError names the input at fault in a list of them.
func (req *generateRequest) itemError(i int, err error) error {
	if !req.List {
		return err
	}
	return fmt.Errorf("input %d: %w", i, err)
}

// samplingParams is SGLang's sampling_params as rlt serve takes them.
type samplingParams struct {
	MaxNewTokens      *sglangInt   `json:"max_new_tokens"` // nan and ±inf too, which rlt serve refuses as any but 0 and 1
	Temperature       *sglangFloat `json:"temperature"`    // nan and inf too, which verify refuses
	SkipSpecialTokens *bool        `json:"skip_special_tokens"`
	// MinNewTokens is an int field of SGLang's, read as a float: verify
	// bounds it as Python's json gives it (nan, 1.5), before its being
	// whole is looked at here.
	MinNewTokens *sglangFloat `json:"min_new_tokens"`
	// StopTokenIDs are SGLang's Optional[Set[int]]: a list, whose nulls
	// it drops.
	StopTokenIDs []*int64 `json:"stop_token_ids"`
	// LogitBias is SGLang's Optional[Dict[str, float]], OpenAI's shape.
	LogitBias logitBiasField `json:"logit_bias"`
}

// perInput is a /generate field SGLang takes either as one value for
// every input or, in a request of several, as a list of one value per
// input (GenerateReqInput: sampling_params, return_logprob,
// logprob_start_len, top_logprobs_num, rid).
type perInput[T any] struct {
	vals   []T  // one per input
	isList bool // the request gave a list: an error names the entry
}

// at names entry i of the field as the request gave it.
func (p perInput[T]) at(name string, i int) string {
	if p.isList {
		return fmt.Sprintf("%s[%d]", name, i)
	}
	return name
}

// isNull reports whether raw is absent or JSON null: the field not given.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// oneOrList reads raw, field name, as one T or as a list of T; a value
// that is neither is said in JSON's words, naming the field.
func oneOrList[T any](name string, raw json.RawMessage) (one T, list []T, isList bool, err error) {
	oneErr := json.Unmarshal(raw, &one)
	if oneErr == nil {
		return one, nil, false, nil
	}
	listErr := json.Unmarshal(raw, &list)
	if listErr == nil {
		return one, list, true, nil
	}
	// Say the error of the shape the value was meant as: a list is a list
	// of values, unless one value is itself a list (input_ids) and the
	// list's first element is not.
	err = oneErr
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) == nil {
		first := []byte(nil)
		if len(elems) > 0 {
			first = bytes.TrimSpace(elems[0])
		}
		if reflect.TypeFor[T]().Kind() != reflect.Slice || len(first) > 0 && first[0] == '[' {
			err = listErr
		}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := name
		if te.Field != "" {
			field += "." + te.Field
		}
		return one, nil, false, &json.UnmarshalTypeError{Value: te.Value, Type: te.Type, Offset: te.Offset, Field: field}
	}
	return one, nil, false, fmt.Errorf("%s: %w", name, err)
}

// spread is field name's value for each of n inputs: def when it is not
// given, its one value for every input, or its list's, which must hold
// one value per input and is only taken when the inputs came as a list.
func spread[T any](name string, raw json.RawMessage, def T, list bool, n int) (perInput[T], error) {
	p := perInput[T]{vals: make([]T, n)}
	if isNull(raw) {
		for i := range p.vals {
			p.vals[i] = def
		}
		return p, nil
	}
	one, vals, isList, err := oneOrList[T](name, raw)
	switch {
	case err != nil:
		return p, err
	case isList && !list:
		return p, fmt.Errorf("%s is a list, one value per input, but the request has one input (text a text, input_ids a list of ids): give one value", name)
	case isList && len(vals) != n:
		return p, fmt.Errorf("%s has %d values for %d inputs: give one per input, or one value for all", name, len(vals), n)
	case isList:
		p.vals, p.isList = vals, true
	default:
		for i := range p.vals {
			p.vals[i] = one
		}
	}
	return p, nil
}

// parseInputs reads /generate's "text" (one text, or a list of them) or
// "input_ids" (one list of ids, or a list of such lists), as SGLang's
// GenerateReqInput takes them; list says whether they came as a list.
// input_embeds (embedsRaw), which SGLang drops beside either
// (_determine_batch_size), given alone makes inputs of its shape, as
// SGLang counts them (one where its first entry's first entry is a
// number, else one per entry), with embeds true: parseGenerate refuses
// them where SGLang refuses input_embeds; one of no such shape (which
// SGLang fails on) is refused at once.
func parseInputs(textRaw, idsRaw, embedsRaw json.RawMessage) (inputs []prompt, list, embeds bool, err error) {
	switch {
	case !isNull(textRaw) && !isNull(idsRaw) && !isNull(embedsRaw):
		return nil, false, false, errors.New("Either text, input_ids or input_embeds should be provided.")
	case !isNull(textRaw) && !isNull(idsRaw):
		return nil, false, false, errors.New("Either text or input_ids should be provided, not both.")
	case isNull(textRaw) && isNull(idsRaw) && !isNull(embedsRaw):
		var entries, first []json.RawMessage
		var x float64
		switch {
		case json.Unmarshal(embedsRaw, &entries) != nil || len(entries) == 0 ||
			json.Unmarshal(entries[0], &first) != nil || len(first) == 0:
			return nil, false, false, errors.New(refusal("input_embeds", "input_embeds", whyNoEmbeds))
		case json.Unmarshal(first[0], &x) == nil:
			return make([]prompt, 1), false, true, nil
		}
		return make([]prompt, len(entries)), true, true, nil
	case !isNull(textRaw):
		one, texts, isList, err := oneOrList[string]("text", textRaw)
		if err != nil {
			return nil, false, false, err
		}
		if br := loneSurrogate("text", textRaw); br != nil { // SGLang's tokenizer fails on it
			return nil, false, false, br
		}
		if !isList {
			return []prompt{{text: &one}}, false, false, nil
		}
		if len(texts) == 0 {
			return nil, false, false, errors.New("text is an empty list: give a text, or a list of at least one")
		}
		inputs = make([]prompt, len(texts))
		for i := range texts {
			inputs[i].text = &texts[i]
		}
		return inputs, true, false, nil
	case !isNull(idsRaw):
		one, lists, isList, err := oneOrList[[]int32]("input_ids", idsRaw)
		if err != nil {
			return nil, false, false, err
		}
		if !isList {
			return []prompt{{ids: one}}, false, false, nil
		}
		inputs = make([]prompt, len(lists))
		for i := range lists {
			inputs[i].ids = lists[i]
			if inputs[i].ids == nil {
				inputs[i].ids = []int32{} // [] as given: an empty input, said so below
			}
		}
		return inputs, true, false, nil
	}
	return nil, false, false, errors.New("give text or input_ids (not empty)")
}

// generateModel is what SGLang checks each /generate input against as it
// reads it: the context length (TokenizerManager._validate_one_request's
// context_len; here Server.MaxModelLen, rlt serve's --max-model-len, else
// the model's positions, as SGLang's --context-length defaults to them)
// and the vocabulary (SamplingParams.verify's logit_bias keys), and the
// tokenizer by which a text's length is counted.
type generateModel struct {
	contextLen, vocab int
	encode            func(string) []int32
}

// generateModel is s's model as parseGenerate checks inputs against it.
func (s *Server) generateModel() *generateModel {
	return &generateModel{contextLen: s.maxLen(), vocab: s.Src.Vocab, encode: s.Tok.Encode}
}

// checkInput is SGLang's _validate_one_request of an input of n tokens
// whose sampling_params are v, in its words: an input that fills the
// context length, then one whose max_new_tokens, given and not null,
// would pass them with it (inf too; one absent is not looked at there,
// though SamplingParams then makes it 128).
func (m *generateModel) checkInput(n int, v spView) error {
	if n >= m.contextLen {
		return fmt.Errorf("The input (%d tokens) is longer than the model's context length (%d tokens).", n, m.contextLen)
	}
	raw, given := v.given["max_new_tokens"]
	if !given || isNull(raw) || !(v.maxNew+float64(n) > float64(m.contextLen)) { // nan passes: Python's comparison with it is false
		return nil
	}
	total := "inf" // Python's inf + n
	if asked, ok := new(big.Int).SetString(string(raw), 10); ok {
		total = asked.Add(asked, big.NewInt(int64(n))).String()
	}
	return fmt.Errorf("Requested token count exceeds the model's maximum context length of %d tokens. You requested a total of %s tokens: %d tokens from the input messages and %s tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.",
		m.contextLen, total, n, v.said("max_new_tokens", v.maxNew))
}

// parseGenerate decodes and checks a /generate body, its inputs against
// the model m as SGLang checks them as it reads them. Where a
// request has several faults, the one returned is the one SGLang reports
// first: the request's shape (GenerateReqInput's normalize: text or
// input_ids, n, the lists' lengths, rid); then the fields SGLang refuses
// before it reads any input (sglangRefusedFirst, and between them
// lora_path's or custom_logit_processor's list shorter than the inputs:
// shortPerInputLists); then each input in
// turn, its length and max_new_tokens against the context length
// (checkInput), the fields SGLang refuses of it (sglangRefusedPerInput),
// then its sampling_params (sglangChecks: SamplingParams' normalize and
// verify, logit_bias's keys among them); then, once every input has
// passed, what rlt serve refuses of what SGLang answers (stream, a field
// refused unless unset, max_new_tokens above 1...).
func parseGenerate(body []byte, m *generateModel) (generateRequest, error) {
	body = pythonJSON(body) // as SGLang's FastAPI reads it
	var raw struct {
		Text            json.RawMessage `json:"text"`
		InputIDs        json.RawMessage `json:"input_ids"`
		SamplingParams  json.RawMessage `json:"sampling_params"`
		ReturnLogprob   json.RawMessage `json:"return_logprob"`
		LogprobStartLen json.RawMessage `json:"logprob_start_len"`
		TopLogprobsNum  json.RawMessage `json:"top_logprobs_num"`
		RID             json.RawMessage `json:"rid"`
		TextInLogprobs  bool            `json:"return_text_in_logprobs"`
		Stream          bool            `json:"stream"`
	}
	if err := decodeBody(body, &raw, sglangFields); err != nil {
		return generateRequest{}, err
	}
	// own is rlt serve's first refusal of what SGLang answers, returned
	// once every check of SGLang's has passed, of every input.
	var own error
	if raw.Stream {
		own = errors.New("rlt serve computes input log-probs and answers whole: stream must be false (or left out)")
	}
	// The fields SGLang defines that are not read here (fields.go).
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return generateRequest{}, sayJSON(err)
	}
	inputs, list, embeds, err := parseInputs(raw.Text, raw.InputIDs, fields["input_embeds"])
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	n := len(inputs)
	// Each sampling_params as given, and decoded from its keys that
	// SGLang's SamplingParams(**sampling_params) takes, exactly as
	// written, where encoding/json would read "Max_New_Tokens" as
	// max_new_tokens: SGLang refuses another key as it makes an input's
	// SamplingParams, after that input's length (samplingKeys, below).
	rawSPs, err := spread("sampling_params", raw.SamplingParams, map[string]json.RawMessage(nil), list, n)
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	sps, err := spread("sampling_params", ownSamplingKeys(raw.SamplingParams), samplingParams{}, list, n)
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	// The fields SGLang refuses itself are refused where it refuses them
	// (below), each as it reads it; of the others, the first rlt serve
	// refuses is, once every check of SGLang's has passed.
	_, answeredBySGLang := splitRules(sglangFields, slices.Concat(sglangRefusedFirst, sglangRefusedPerInput)...)
	if field, why := checkFields(fields, answeredBySGLang); field != "" && own == nil {
		own = errors.New(refusal(field, field, why))
	}
	// n, which GenerateReqInput reads as it normalizes the request
	// (parallelSamples), before SGLang reads each input's sampling_params.
	for i, sp := range rawSPs.vals {
		if field, why := checkFieldsInOrder(sp, sglangSamplingFields, "n"); field != "" {
			return generateRequest{}, errors.New(refusal(rawSPs.at("sampling_params", i)+"."+field, field, why))
		}
	}
	samples, err := parallelSamples(rawSPs, map[string]json.RawMessage{
		"return_logprob": raw.ReturnLogprob, "logprob_start_len": raw.LogprobStartLen, "top_logprobs_num": raw.TopLogprobsNum})
	if err != nil {
		return generateRequest{}, err
	}
	returnLogprob, err := spread("return_logprob", raw.ReturnLogprob, false, list, n)
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	starts, err := spread("logprob_start_len", raw.LogprobStartLen, -1, list, n)
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	tops, err := spread("top_logprobs_num", raw.TopLogprobsNum, 0, list, n)
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	// Several samples of one input make a list of them, whose rid may be
	// a list of one (GenerateReqInput._handle_parallel_sampling).
	list = list || samples > 1
	rids, err := requestIDs(raw.RID, list, n)
	if err != nil {
		return generateRequest{}, sayJSON(err)
	}
	// GenerateReqInput._normalize_custom_logit_processor, after the rid
	// and the log-prob fields, refuses a list with several samples.
	if samples > 1 && isJSONList(fields["custom_logit_processor"]) {
		return generateRequest{}, errors.New("Cannot use list custom_logit_processor with parallel_sample_num > 1") // SGLang's words
	}
	// What TokenizerManager.generate_request refuses once the request is
	// normalized, before it reads any input (sglangRefusedFirst:
	// max_thinking_tokens; then, as _init_req_state makes each input's
	// request, a per-input list shorter than the inputs; then
	// _validate_and_resolve_lora's lora_path), in rlt serve's words.
	if field, why := checkFieldsInOrder(fields, sglangFields, "max_thinking_tokens"); field != "" {
		return generateRequest{}, errors.New(refusal(field, field, why))
	}
	if err := shortPerInputLists(fields, list, n); err != nil {
		return generateRequest{}, err
	}
	if sglangLoRAAsked(fields["lora_path"], list) {
		return generateRequest{}, errors.New(refusal("lora_path", "lora_path", whyNoAdapters))
	}
	req := generateRequest{Items: make([]generateItem, n), List: list, TextInLogprob: raw.TextInLogprobs, Samples: samples}
	// input_embeds alone: _tokenize_one_request refuses it first of the
	// first input, before its length, on a server with a radix cache
	// (rlt serve's words: it computes no embeddings).
	if embeds {
		return generateRequest{}, req.itemError(0, errors.New(refusal("input_embeds", "input_embeds", whyNoEmbeds)))
	}
	// Each input in turn as SGLang reads it (TokenizerManager's
	// _tokenize_one_request): its length against the context length
	// (checkInput), then its sampling_params as read (a view, sglangChecks);
	// once all have passed, what rlt serve refuses of what SGLang answers.
	views := make([]spView, n)
	encoded := make([][]int32, n)
	for i := range views {
		views[i] = viewSP(rawSPs, sps, i)
		length := len(inputs[i].ids)
		if inputs[i].text != nil {
			encoded[i] = m.encode(*inputs[i].text)
			length = len(encoded[i])
		}
		if err := m.checkInput(length, views[i]); err != nil {
			return generateRequest{}, req.itemError(i, err)
		}
		for _, field := range sglangRefusedPerInput {
			value, given := fields[field]
			var each []json.RawMessage
			if given && list && json.Unmarshal(value, &each) == nil && i < len(each) {
				value = each[i] // GenerateReqInput.__getitem__'s input i
			}
			if r := sglangFields[field](value); given && r.why != "" {
				return generateRequest{}, req.itemError(i, errors.New(refusal(field, field, r.why)))
			}
		}
		// Then _create_tokenized_object's SamplingParams(**sampling_params),
		// which takes no other key (a TypeError, which SGLang answers with
		// a 500; here a 400 naming it), before it checks the values.
		if why := samplingKeys(rawSPs.vals[i]); why != "" {
			return generateRequest{}, fmt.Errorf("%s: %s", rawSPs.at("sampling_params", i), why)
		}
		if err := views[i].sglangChecks(m.vocab); err != nil {
			return generateRequest{}, err
		}
	}
	if own != nil {
		return generateRequest{}, own
	}
	for i := range req.Items {
		v := views[i]
		sp, maxNew, minNew := v.sp, v.maxNew, v.minNew
		if field, why := checkFields(v.raw, sglangSamplingFields); field != "" {
			return generateRequest{}, v.refused(field, why)
		}
		if t := (*float64)(sp.Temperature); samples > 1 && (t == nil || *t >= 1e-6) {
			temp := 1.0 // SGLang's default
			if t != nil {
				temp = *t
			}
			return generateRequest{}, fmt.Errorf("%s.n %d asks for %d samples at temperature %g, which would differ: rlt serve generates the greedy token only; give temperature 0, or n 1", v.at, samples, samples, temp)
		}
		if v.maxNewNull {
			return generateRequest{}, fmt.Errorf("%srlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got null, no bound), not streamed", v.where)
		}
		if maxNew != 0 && maxNew != 1 {
			return generateRequest{}, v.maxNewRefused()
		}
		if minNew != math.Trunc(minNew) {
			return generateRequest{}, fmt.Errorf("%s.min_new_tokens must be a whole number, got %s", v.at, v.said("min_new_tokens", minNew))
		}
		var stops []int64
		for _, id := range sp.StopTokenIDs {
			if id != nil {
				stops = append(stops, *id)
			}
		}
		if k := tops.vals[i]; k < 0 {
			return generateRequest{}, fmt.Errorf("%s must be 0 (none) or a positive count of top log-probs a position, got %d", tops.at("top_logprobs_num", i), k)
		}
		req.Items[i] = generateItem{In: inputs[i], MaxNew: int(maxNew), Temperature: sglangTemperature((*float64)(sp.Temperature)),
			ReturnLogprob: returnLogprob.vals[i], Start: starts.vals[i], TopNum: tops.vals[i], RID: rids[i],
			SkipSpecial: sp.SkipSpecialTokens == nil || *sp.SkipSpecialTokens, MinNew: int(minNew), StopTokenIDs: stops,
			LogitBias: sp.LogitBias, Encoded: encoded[i]}
	}
	return req, nil
}

// spView is one input's sampling_params as parseGenerate checks them:
// decoded (sp) and as given (given; raw: without top_k where SGLang puts
// its own over it, greedyTopK), with max_new_tokens (128, SGLang's
// default, when
// absent or null; maxNewNull: null, SGLang's None, no bound but the
// context length) and min_new_tokens read, and where the input's
// messages say they are (where: "sampling_params[i]: " for a list; at:
// the sampling_params' path).
type spView struct {
	sp             samplingParams
	raw, given     map[string]json.RawMessage
	maxNew, minNew float64
	maxNewNull     bool
	where, at      string
}

func viewSP(raw perInput[map[string]json.RawMessage], sps perInput[samplingParams], i int) spView {
	v := spView{sp: sps.vals[i], raw: raw.vals[i], given: raw.vals[i], maxNew: 128, at: raw.at("sampling_params", i)}
	if v.sp.MaxNewTokens != nil {
		v.maxNew = float64(*v.sp.MaxNewTokens)
	}
	if v.sp.MinNewTokens != nil {
		v.minNew = float64(*v.sp.MinNewTokens)
	}
	if m, ok := v.given["max_new_tokens"]; ok && isNull(m) {
		v.maxNewNull = true
	}
	if sps.isList {
		v.where = sps.at("sampling_params", i) + ": "
	}
	if greedyTopK(v.sp.Temperature) && !v.normalized() {
		v.raw = maps.Clone(v.raw)
		delete(v.raw, "top_k") // SGLang's own 1 stands in its place
	}
	return v
}

// refused is field's refusal, for why, named by its path.
func (v spView) refused(field, why string) error {
	return errors.New(refusal(v.at+"."+field, field, why))
}

// said is field name's number as given (SGLang's messages say the int or
// float Python's json read: 2.0, 1234567.5), nan and ±inf as Python
// writes them; an absent one as its default, def.
func (v spView) said(name string, def float64) string {
	if _, show, fault := jsonNumber(v.given[name]); fault == "" {
		return show
	}
	return strconv.FormatFloat(def, 'f', -1, 64)
}

// maxNewRefused is rlt serve's refusal of a max_new_tokens other than 0
// and 1.
func (v spView) maxNewRefused() error {
	return fmt.Errorf("%srlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got %s), not streamed", v.where, v.said("max_new_tokens", v.maxNew))
}

// normalized reports whether v's is_normalized is true, as Python reads
// it (a value but null, false, 0, "", [] and {}): SamplingParams'
// __post_init__ then returns at once, leaving stop_regex unread by
// normalize and top_k as given to verify, where it would put 1 over it
// (greedyTopK). rlt serve refuses it, once SGLang's checks have passed.
func (v spView) normalized() bool {
	return pyTruthy(v.given["is_normalized"])
}

// sglangChecks refuses what SGLang refuses of v as it makes its
// SamplingParams, in SGLang's order and words: normalize tokenizes each
// stop string (sglangStop) and parses each stop_regex (unless v is
// normalized), then verify checks temperature,
// the fields of sglangVerifyOrder, min_new_tokens and max_new_tokens,
// logit_bias's keys against a vocabulary of vocab (sglangBiasKeys), and
// that one grammar at most is set. A
// max_new_tokens below 0 (or nan or ±inf) is refused where verify refuses
// one below 0, in rlt serve's words for any but 0 and 1.
func (v spView) sglangChecks(vocab int) error {
	if field, why := checkFieldsInOrder(v.raw, sglangSamplingFields, "stop", "stop_regex"); field != "" && !v.normalized() {
		return v.refused(field, why)
	}
	if t := (*float64)(v.sp.Temperature); t != nil && (*t < 0 || math.IsInf(*t, 0) || math.IsNaN(*t)) { // no upper bound
		return fmt.Errorf("%stemperature must be a non-negative finite number, got %s.", v.where, hf.PythonFloat(*t))
	}
	if field, why := checkFieldsInOrder(v.raw, sglangVerified, sglangVerifyOrder...); field != "" {
		return v.refused(field, why)
	}
	switch { // nan fails the first
	case !(v.minNew >= 0):
		return fmt.Errorf("%smin_new_tokens must be in [0, max_new_tokens], got %s.", v.where, v.said("min_new_tokens", v.minNew))
	case v.maxNewNull: // verify bounds none
	case v.maxNew < 0 || math.IsInf(v.maxNew, 0) || math.IsNaN(v.maxNew):
		return v.maxNewRefused()
	case !(v.minNew <= v.maxNew):
		return fmt.Errorf("%smin_new_tokens must be in [0, max_new_tokens(%d)], got %s.", v.where, int(v.maxNew), v.said("min_new_tokens", v.minNew))
	}
	if _, err := sglangBiasKeys(v.sp.LogitBias, vocab); err != nil {
		return fmt.Errorf("%s%w", v.where, err)
	}
	if countSet(v.raw, "json_schema", "regex", "ebnf") > 1 {
		return fmt.Errorf("%sOnly one of regex, json_schema, or ebnf can be set.", v.where)
	}
	return nil
}

// greedyTopK reports whether SGLang sets top_k to 1 over the one given,
// for a temperature in [0, 1e-6): SamplingParams.__post_init__ reads it
// as greedy sampling (temperature 1, top_k 1) before verify looks at
// top_k, so that any top_k passes there (0, 2.5, nan, a text), and the
// token is the greedy one rlt serve generates.
func greedyTopK(temperature *sglangFloat) bool {
	return temperature != nil && 0 <= *temperature && *temperature < 1e-6
}

// sglangTemperature is the temperature an input's log-probs are computed
// at for the one asked (nil: absent, SGLang's default 1): SGLang's
// SamplingParams.__post_init__ reads one in [0, 1e-6) as greedy sampling
// at temperature 1 (greedyTopK), so its log-probs are temperature 1's
// here too, not those of logits/1e-7 (or NaN at 1e-40, whose logits
// overflow float32).
func sglangTemperature(t *float64) float64 {
	if t == nil || greedyTopK((*sglangFloat)(t)) {
		return 1
	}
	return *t
}

// parallelSamples is the n of sampling_params, raw, as SGLang's
// GenerateReqInput reads it as it normalizes the request
// (_handle_parallel_sampling), refusing what it refuses there: one n for
// every input, 1 when absent or null; with n > 1, the fields of perInput
// given as a list. n > 1 is answered only where each input's temperature
// is 0 (below SGLang's 1e-6): its samples are then its greedy token each,
// as here; at another temperature they would differ, and rlt serve
// generates the greedy token only: parseGenerate refuses it once SGLang's
// own checks of each input's sampling_params have passed.
func parallelSamples(raw perInput[map[string]json.RawMessage], perInput map[string]json.RawMessage) (int, error) {
	samples := 0
	for i, sp := range raw.vals {
		var n float64 = 1
		if !isNull(sp["n"]) {
			json.Unmarshal(sp["n"], &n) // a whole number of at least 1: checked before (sglangSamplingFields)
		}
		if i > 0 && int(n) != samples {
			return 0, errors.New("The parallel_sample_num should be the same for all samples in sample params.")
		}
		samples = int(n)
	}
	if samples <= 1 {
		return 1, nil
	}
	for _, name := range []string{"return_logprob", "logprob_start_len", "top_logprobs_num"} {
		if isJSONList(perInput[name]) {
			return 0, fmt.Errorf("Cannot use list %s with parallel_sample_num > 1", name) // SGLang's words
		}
	}
	return samples, nil
}

// samplingNames are the keys SGLang's SamplingParams takes: those
// parseGenerate reads, and those of sglangSamplingFields.
var samplingNames = func() []string {
	names := jsonerr.FieldNames(reflect.TypeFor[samplingParams]())
	for name := range sglangSamplingFields {
		names = append(names, name)
	}
	return names
}()

// samplingKeys says why sp, one input's sampling_params, is refused for
// a key ("" when none is): one SamplingParams does not define, which
// SGLang refuses (its constructor takes no other keyword: a TypeError,
// which SGLang answers with a 500, here a 400 naming it), said as a
// spelling in another case of one it defines where it is one.
func samplingKeys(sp map[string]json.RawMessage) string {
	keys := slices.Sorted(maps.Keys(sp))
	for _, key := range keys {
		if field, ok := jsonerr.FoldedName(key, samplingNames); ok {
			return (&jsonerr.CaseMiss{Key: key, Field: field}).Error()
		}
	}
	for _, key := range keys {
		if !slices.Contains(samplingNames, key) {
			return fmt.Sprintf("%q is not a sampling parameter: SGLang's SamplingParams takes only its own (max_new_tokens, temperature, stop, …) and refuses another", key)
		}
	}
	return ""
}

// ownSamplingKeys is raw, /generate's sampling_params as given (one
// object, or a list of them), with only the keys SGLang's SamplingParams
// takes (samplingNames), exactly as written and in the order written:
// what SamplingParams reads of them, to decode, so that encoding/json
// reads no other key (one in another case) as a field, and says a type
// fault of the first key written that has one, as of the rest of the
// body. A value of another shape is kept as given, for spread to refuse.
func ownSamplingKeys(raw json.RawMessage) json.RawMessage {
	var list []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &list) != nil {
		return ownKeysOf(raw)
	}
	out := []byte{'['}
	for i, sp := range list {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, ownKeysOf(sp)...)
	}
	return append(out, ']')
}

// ownKeysOf is obj, one sampling_params, with only the keys in
// samplingNames, each value as written; obj as given where it is no
// object.
func ownKeysOf(obj json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	out := []byte{'{'}
	for dec.More() {
		t, err := dec.Token()
		key, isKey := t.(string)
		var value json.RawMessage
		if err != nil || !isKey || dec.Decode(&value) != nil {
			return obj // not read here as JSON: left for spread to say
		}
		if !slices.Contains(samplingNames, key) {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		name, _ := json.Marshal(key) // one of samplingNames: plain ASCII
		out = append(append(append(out, name...), ':'), value...)
	}
	return append(out, '}')
}

// isJSONList reports whether raw, a JSON value, is a list.
func isJSONList(raw json.RawMessage) bool {
	v := bytes.TrimSpace(raw)
	return len(v) > 0 && v[0] == '['
}

// shortPerInputLists refuses lora_path or custom_logit_processor given as
// a list with fewer entries than the n inputs of a list of them (list):
// TokenizerManager._init_req_state makes each input's request
// (GenerateReqInput.__getitem__), which reads entry i of each for input
// i, lora_path's first, and fails on the first input past one (an
// IndexError, SGLang's 500; here a 400 naming it), after
// max_thinking_tokens and before lora_path is looked at. [] too, which
// asks nothing of one input but fails a list of them.
func shortPerInputLists(fields map[string]json.RawMessage, list bool, n int) error {
	if !list {
		return nil
	}
	field, short := "", n
	for _, name := range []string{"lora_path", "custom_logit_processor"} {
		var entries []json.RawMessage
		if isNull(fields[name]) || json.Unmarshal(fields[name], &entries) != nil {
			continue
		}
		if len(entries) < short {
			field, short = name, len(entries)
		}
	}
	if field == "" {
		return nil
	}
	entries, inputs := "entries", "inputs"
	if short == 1 {
		entries = "entry"
	}
	if n == 1 {
		inputs = "input" // one input, several samples of it
	}
	return fmt.Errorf("%s is a list of %d %s for %d %s: SGLang reads entry i for input i and fails past the list's end (an IndexError, its 500); give one per input, or leave it out", field, short, entries, n, inputs)
}

// sayJSON is err in JSON's words where it is encoding/json's.
func sayJSON(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("the body is not the JSON expected: %s", sayDecodeErr(nil, te))
	}
	return err
}

// requestIDs are the meta_info ids rid asks for each of n inputs, as
// SGLang names its requests: one text for one input; for a list of
// inputs, "<rid>_<i>" of one text, or a list of one distinct text per
// input; "" where none is asked.
func requestIDs(raw json.RawMessage, list bool, n int) ([]string, error) {
	ids := make([]string, n)
	if isNull(raw) {
		return ids, nil
	}
	one, many, isList, err := oneOrList[string]("rid", raw)
	switch {
	case err != nil:
		return nil, err
	case !isList && !list:
		ids[0] = one
	case !isList:
		for i := range ids {
			ids[i] = fmt.Sprintf("%s_%d", one, i)
		}
	case !list:
		return nil, errors.New("rid is a list, one per input, but the request has one input: give one text")
	case len(many) != n:
		return nil, fmt.Errorf("The specified rids length mismatch with the batch_size for batch processing. (rid has %d texts for %d inputs)", len(many), n)
	default:
		seen := map[string]bool{}
		var dups []string
		for _, r := range many {
			if seen[r] && !slices.Contains(dups, r) {
				dups = append(dups, r)
			}
			seen[r] = true
		}
		if len(dups) > 0 {
			return nil, fmt.Errorf("Duplicate request IDs detected within the request: %q", dups)
		}
		copy(ids, many)
	}
	return ids, nil
}

// checkTopLogprobsNum refuses a top_logprobs_num past --max-logprobs, as
// the vLLM endpoint refuses logprobs past it (checkLogprobs): SGLang has
// no such bound, but one request should not make the host hold and write
// the whole vocabulary at every position unless the server allows it.
func (s *Server) checkTopLogprobsNum(n int) error {
	limit := s.MaxLogprobs
	if limit == -1 {
		limit = s.Src.Vocab
	}
	if n > limit {
		return fmt.Errorf("Requested top_logprobs_num of %d, which is greater than max allowed: %d (parameter=top_logprobs_num, value=%d; rlt serve --max-logprobs)", n, limit, n)
	}
	return nil
}

// generateIDs are the token ids of item's input (a text's as
// parseGenerate encoded it, where it checked its length against the
// context length), checked against the vocabulary, and against item's
// logprob_start_len as SGLang's scheduler checks it.
func (s *Server) generateIDs(it *generateItem) ([]int32, error) {
	ids := it.Encoded
	if it.In.text == nil || ids == nil {
		var err error
		if ids, err = s.resolve(it.In); err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("give text or input_ids (not empty)")
	}
	if it.Start >= len(ids) {
		return nil, fmt.Errorf("logprob_start_len (%d) must be less than the input length (%d)", it.Start, len(ids))
	}
	return ids, nil
}

// topNum is the top log-probs a position item is answered with: SGLang
// returns them with the others only.
func (it *generateItem) topNum() int {
	if it.ReturnLogprob {
		return it.TopNum
	}
	return 0
}

// options is what item asks the model of its input of n tokens, of a
// vocabulary of vocab.
func (it *generateItem) options(n, vocab int) rlt.PromptOptions {
	opts := rlt.PromptOptions{Next: it.MaxNew == 1}
	top := it.topNum()
	if top > 0 && it.Start >= 0 && it.Start+1 < n {
		opts.TopK = top // of every position; those before start are dropped
	}
	if top > 0 && it.MaxNew == 1 {
		opts.NextTopK = top
	}
	if opts.Next {
		opts.NextBias = it.Bias
	}
	return opts
}

// sglangBias is how item adjusts the logits of the generated token, as
// SGLang's sampler adjusts them (holdback.go): its logit_bias added, and
// held back (−∞) while fewer tokens than min_new_tokens are generated, as
// its penalizer holds them, its stop_token_ids and the model's end of
// sequence (EOS.SGLang), whatever ignore_eos. A stop token id outside the
// vocabulary, which no token can be, holds nothing; a logit_bias key
// outside it was refused by parseGenerate (sglangChecks), whatever
// max_new_tokens, as SamplingParams.verify refuses it. The token's
// log-probs are then of the adjusted logits (rlt.LogitBias.Adjusted).
// nil: no adjustment.
func (s *Server) sglangBias(it *generateItem) (*rlt.LogitBias, error) {
	h, err := sglangLogitBias(it.LogitBias, s.Src.Vocab)
	if err != nil || it.MaxNew == 0 {
		return nil, err
	}
	if it.MinNew > 0 {
		for _, id := range it.StopTokenIDs {
			if id >= 0 && id < int64(s.Src.Vocab) {
				h = h.Hold(int32(id))
			}
		}
		h = h.Hold(s.EOS.SGLang...)
	}
	if h == nil {
		return nil, nil
	}
	h.Adjusted = true
	if h.AllHeld(s.Src.Vocab) {
		return nil, errAllHeld
	}
	return h, nil
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		sglangError(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := parseGenerate(body, s.generateModel())
	for i := 0; err == nil && i < len(req.Items); i++ {
		if err = s.checkTopLogprobsNum(req.Items[i].TopNum); err != nil {
			err = req.itemError(i, err)
		}
	}
	if err != nil {
		sglangError(w, http.StatusBadRequest, err.Error())
		return
	}
	all := make([][]int32, len(req.Items))
	for i := range req.Items {
		it := &req.Items[i]
		if all[i], err = s.generateIDs(it); err == nil {
			it.Bias, err = s.sglangBias(it)
		}
		if err != nil {
			sglangError(w, http.StatusBadRequest, req.itemError(i, err).Error())
			return
		}
	}
	// The inputs that ask the same of the model, at one temperature (their
	// logits adjusted alike: sameAsk), run through it together, with those
	// of the requests waiting beside this one (coalesce.go), so each is
	// answered with the bytes it would get alone.
	asks := make([]ask, len(all))
	for i := range asks {
		asks[i] = ask{req.Items[i].Temperature, req.Items[i].options(len(all[i]), s.Src.Vocab)}
	}
	scores, err := s.score(r.Context(), all, asks)
	if r.Context().Err() != nil {
		return // the client went away: no one reads an answer
	}
	if err != nil {
		sglangError(w, http.StatusInternalServerError, err.Error())
		return
	}
	answers := make([]any, 0, len(all)*req.Samples)
	for i := range all {
		it := &req.Items[i]
		if req.Samples <= 1 {
			answers = append(answers, s.generateAnswer(it, all[i], &scores[i], req.TextInLogprob))
			continue
		}
		sample := *it
		sample.RID = "" // each sample's id the server's own, as SGLang gives each a new rid
		for range req.Samples {
			answers = append(answers, s.generateAnswer(&sample, all[i], &scores[i], req.TextInLogprob))
		}
	}
	if req.List {
		writeJSON(w, http.StatusOK, answers)
		return
	}
	writeJSON(w, http.StatusOK, answers[0])
}

// generateAnswer is SGLang's answer to item, whose input is ids and
// scores (item.options) sc: {"text", "output_ids", "meta_info"}.
func (s *Server) generateAnswer(it *generateItem, ids []int32, sc *rlt.PromptScores, textInLogprob bool) map[string]any {
	maxNew, start := it.MaxNew, it.Start
	id := it.RID
	if id == "" {
		id = fmt.Sprintf("%d", s.n.Add(1))
	}
	meta := map[string]any{
		"id": id, "prompt_tokens": len(ids), "completion_tokens": maxNew, "cached_tokens": 0,
		"finish_reason": map[string]any{"type": "length", "length": maxNew},
	}
	text := ""
	outIDs := []int32{} // SGLang's [] when nothing is generated, never null
	if maxNew == 1 {
		text = sglangOutputText(s.Tok, ids, sc.Next, it.SkipSpecial)
		outIDs = []int32{sc.Next}
	}
	if it.ReturnLogprob {
		// SGLang's detokenize_logprob_tokens: each token decoded alone,
		// special tokens included (batch_decode's default), when asked;
		// else null.
		tokenText := func(id int32) any {
			if !textInLogprob {
				return nil
			}
			return s.Tok.DecodeHF([]int32{id}, false)
		}
		in := []any{}
		if start >= 0 {
			for pos := start; pos < len(ids); pos++ {
				var v any // SGLang's None for the first, whatever start
				if pos > start {
					v = clamp(sc.LogProbs[pos-1])
				}
				in = append(in, []any{v, ids[pos], tokenText(ids[pos])})
			}
		}
		out := []any{}
		if maxNew == 1 {
			out = append(out, []any{clamp(sc.NextLogProb), sc.Next, tokenText(sc.Next)})
		}
		meta["input_token_logprobs"], meta["output_token_logprobs"] = in, out
		if top := it.topNum(); top > 0 {
			// SGLang's input_top_logprobs and output_top_logprobs (present
			// only when top_logprobs_num > 0): a list per position of the
			// input_token_logprobs and output_token_logprobs, of
			// [logprob, id, text] triples of its most likely tokens, most
			// likely first (tokenizer_manager.py,
			// detokenize_top_logprobs_tokens); the first input position
			// has none, null. An input token among its position's top
			// log-probs has there the value of its own triple, as SGLang
			// takes both from one row of log-probs (so does
			// rlt.PromptScores).
			triples := func(top []int32, lps []float32) []any {
				t := make([]any, len(top))
				for j, id := range top {
					t[j] = []any{clamp(lps[j]), id, tokenText(id)}
				}
				return t
			}
			inTop := []any{}
			if start >= 0 {
				inTop = append(inTop, nil)
				for pos := start + 1; pos < len(ids); pos++ {
					inTop = append(inTop, triples(sc.TopIDs[pos-1], sc.TopLogProbs[pos-1]))
				}
			}
			outTop := []any{}
			if maxNew == 1 {
				outTop = append(outTop, triples(sc.NextTopIDs, sc.NextTopLogProbs))
			}
			meta["input_top_logprobs"], meta["output_top_logprobs"] = inTop, outTop
		}
	}
	return map[string]any{"text": text, "output_ids": outIDs, "meta_info": meta}
}
