package serve

import (
	"slices"
	"strings"
)

// The texts rlt serve returns are those vLLM and SGLang return for the same
// ids. Both decode with Hugging Face's tokenizers (Tokenizer.DecodeHF: one
// U+FFFD per maximal subpart of an ill-formed UTF-8 sequence, Rust's
// String::from_utf8_lossy), but each applies it its own way:
//
//   - vLLM's prompt log-probs' "decoded_token" (vllm/v1/engine/logprobs.py,
//     LogprobsProcessor._update_prompt_logprobs): each token decoded alone,
//     special tokens kept (vllm/tokenizers/detokenizer_utils.py,
//     convert_ids_list_to_tokens: tokenizer.decode([id])), then, where that
//     text ends in U+FFFD, corrected from the prompt tokens before it
//     (_verify_tokens, _correct_decoded_token): vllmPromptTokenText; the
//     position's top-k tokens the same way (vllmCandidateText). The
//     generated token's and its top-k's have no tokens generated before
//     them to correct from: vllmSampleTokenText. The legacy "logprobs"
//     object's "tokens" and "top_logprobs" keys are these decoded_token
//     texts (the first prompt token, without log-probs, decoded alone:
//     serving.py's _create_completion_logprobs).
//   - vLLM's "text" with echo: the prompt as the request gave it when it was
//     a text, else tokenizer.decode(prompt ids), special tokens kept (the
//     renderer's _detokenize_prompt); the generated token's text is one step
//     of tokenizers' DecodeStream, primed with the prompt, special tokens
//     skipped (vllm/v1/engine/detokenizer.py, FastIncrementalDetokenizer):
//     vllmOutputText.
//   - SGLang's [logprob, id, text] triples: each token decoded alone,
//     special tokens kept (tokenizer_manager.py, detokenize_logprob_tokens:
//     tokenizer.batch_decode(ids)), no correction; the generated text is its
//     detokenizer's, after the last five prompt tokens, special tokens
//     skipped (schedule_batch.py, init_incremental_detokenize;
//     detokenizer_manager.py): sglangOutputText.

// endsReplaced is Python's text.endswith("\ufffd"), the test vLLM and
// tokenizers' DecodeStream take for a character still to be completed.
func endsReplaced(s string) bool { return strings.HasSuffix(s, "\uFFFD") }

// vllmPromptTokenText is the "decoded_token" vLLM's V1 engine returns for
// the prompt token ids[pos] (pos ≥ 1) with prompt_logprobs 0: the token
// decoded alone, unless that text ends in U+FFFD (a character cut between
// tokens). Then it tries as context the last 1, 2, 3, 4 prompt tokens
// before it that have log-prob entries (position 0's entry is None, so
// ids[0] never counts): the first context with which the decode does not
// end in U+FFFD gives the text that decode adds to the context's "clean"
// tokens (those before the context's own trailing U+FFFD-ending tokens,
// whose text goes to this token); none gives "". So vLLM does since PR
// #34875 (February 2026); from PR #28874 (November 2025) such a prompt
// token's text was "", and before it the lone decode.
func vllmPromptTokenText(tok Tokenizer, ids []int32, pos int) string {
	return vllmCandidateText(tok, ids, pos, ids[pos])
}

// vllmCandidateText is the "decoded_token" vLLM's V1 engine returns for
// token id in the prompt log-probs of position pos ≥ 1 (the prompt token
// ids[pos] or one of the position's top-k): each is decoded, and
// corrected where its text ends in U+FFFD, as vllmPromptTokenText says,
// with the same context, the prompt tokens before pos.
func vllmCandidateText(tok Tokenizer, ids []int32, pos int, id int32) string {
	dec := func(ids []int32) string { return tok.DecodeHF(ids, false) }
	text := dec([]int32{id})
	if !endsReplaced(text) {
		return text
	}
	before := ids[max(1, pos-4):pos]
	for k := 1; k <= len(before); k++ {
		ctx := before[len(before)-k:]
		full := dec(append(slices.Clip(ctx), id))
		if endsReplaced(full) {
			continue
		}
		clean := len(ctx)
		for j := len(ctx) - 1; j >= 0 && endsReplaced(dec(ctx[j:j+1])); j-- {
			clean = j
		}
		prefix := dec(ctx[:clean])
		if strings.HasPrefix(full, prefix) {
			return full[len(prefix):]
		}
		// Normalisation can make the prefix differ: what follows the
		// longest common prefix, compared character by character.
		n := 0
		for i, r := range full {
			if !strings.HasPrefix(prefix[n:], string(r)) {
				return full[i:]
			}
			n += len(string(r))
		}
		return ""
	}
	return ""
}

// vllmSampleTokenText is the "decoded_token" vLLM's V1 engine gives the
// first generated token, or one of its top log-probs (logprobs N): the
// token decoded alone, special tokens kept, corrected as prompt tokens are
// but with the tokens generated before it as context (the prompt is not):
// of the first there are none, so a text ending in U+FFFD is "".
func vllmSampleTokenText(tok Tokenizer, id int32) string {
	text := tok.DecodeHF([]int32{id}, false)
	if endsReplaced(text) {
		return ""
	}
	return text
}

// vllmOutputText is the text vLLM's V1 engine returns for the one token
// next generated after prompt, special tokens skipped as the request's
// skip_special_tokens says (true by default; the stream decodes the
// prompt alike): one step
// of tokenizers' DecodeStream primed with the prompt ids (DecodeStream(ids=
// prompt); step_decode_stream in tokenizers/src/tokenizer/mod.rs). vLLM
// before that primed the stream with a few prompt tokens instead, which
// differs only where the prompt ends inside a character.
// The prompt's decode is the prefix to cut, unless it ends in U+FFFD (the
// prompt ends inside a character): then the stream has no prefix and the
// whole decode of prompt and token is the step's text. A decode that ends
// in U+FFFD, or is no longer than the prefix (a special token skipped),
// gives "". A decode that does not start with the prefix is tokenizers'
// "Invalid prefix" error, on which vLLM steps a new stream with the token
// alone; a byte-level decoder never gets there.
func vllmOutputText(tok Tokenizer, prompt []int32, next int32, skipSpecial bool) string {
	dec := func(ids []int32) string { return tok.DecodeHF(ids, skipSpecial) }
	prefix := dec(prompt)
	if endsReplaced(prefix) {
		prefix = ""
	}
	text := dec(append(slices.Clip(prompt), next))
	if len(text) <= len(prefix) || endsReplaced(text) {
		return ""
	}
	if !strings.HasPrefix(text, prefix) {
		if text = dec([]int32{next}); endsReplaced(text) {
			return ""
		}
		return text
	}
	return text[len(prefix):]
}

// sglangOutputText is the text SGLang returns for the one token next
// generated after prompt, the request finished, special tokens skipped as
// the request's skip_special_tokens says (true by default, for the prompt
// tokens decoded too): its detokenizer decodes the last five prompt tokens
// with and without the token and keeps what follows as many characters
// (Python code points) of the second as the first has. So a token that completes a
// character cut in the prompt gives "" (the U+FFFD it replaces is counted
// as the prompt's), and one that leaves a character cut gives U+FFFD.
func sglangOutputText(tok Tokenizer, prompt []int32, next int32, skipSpecial bool) string {
	dec := func(ids []int32) string { return tok.DecodeHF(ids, skipSpecial) }
	surr := prompt[max(0, len(prompt)-5):]
	n := len([]rune(dec(surr)))
	read := dec(append(slices.Clip(surr), next))
	for i := range read {
		if n == 0 {
			return read[i:]
		}
		n--
	}
	return ""
}
