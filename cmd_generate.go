package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

const generateUsage = `
Usage: rlt generate --model DIR --prompt TEXT [--chat [--system TEXT]] [--device D] [sampling flags]

Continues TEXT with the model in DIR, streaming tokens to stdout as they are
sampled. With --chat, TEXT is a user message rendered with ChatML and a
generation prompt (after the --system message, if given: --system needs
--chat); generation stops at <|im_end|>.

The text printed is what vLLM returns for the same request by default: the
stop token (<|im_end|>, <|endoftext|>) is left out, the text ends where a
--stop string begins (vLLM's include_stop_str_in_output=False), and special
tokens such as <|im_start|> are not printed (skip_special_tokens=True).
--include-stop-str-in-output keeps the stop string, and the stop token;
--skip-special-tokens=false prints special tokens, so with both flags a
stop token shows as <|im_end|>. stderr says how many tokens were generated,
the stop token included, and what stopped them.

A signal (Ctrl-C, SIGTERM, a closed terminal's SIGHUP) stops it within a
token: stdout holds the text printed so far, whole characters, ended by a
newline (what it held back for a --stop string is left out), and stderr
says how many tokens it had (exit 1); the same command and --seed give the
whole text.

Examples:
  rlt generate --model /tmp/defaults/student --system "Solve: thought, then solution." --prompt "347+285=?" --chat --temperature 0
  rlt generate --model /tmp/trained --prompt "Once" --temperature 0.7 --top-p 0.9 --seed 3
`

func runGenerate(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt generate", generateUsage, stdout, stderr)
	dir := fs.String("model", "", "Hugging Face model folder with tokenizer.json (required)")
	dev := deviceFlag(fs, "the model's layers")
	prompt := fs.String("prompt", "", "text to continue (required)")
	chat := fs.Bool("chat", false, "render the prompt as a ChatML user turn")
	system := fs.String("system", "", "system message for --chat")
	temp := fs.Float64("temperature", 0.7, "sampling temperature; 0 = greedy (as is any below 2.9e-39, 1/MaxFloat32)")
	topK := fs.Int("top-k", 0, "keep the K most probable tokens (0 = off)")
	topP := fs.Float64("top-p", 1, "nucleus sampling mass (1 = off)")
	minP := fs.Float64("min-p", 0, "drop tokens below this fraction of the top probability (0 = off)")
	maxNew := fs.Int("max-new-tokens", 128, "most tokens to generate")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same text)")
	var stops multiFlag
	fs.Var(&stops, "stop", "stop string (repeatable)")
	includeStop := fs.Bool("include-stop-str-in-output", false, "print the stop string or stop token that ended the text (vLLM's include_stop_str_in_output)")
	skipSpecial := fs.Bool("skip-special-tokens", true, "leave special tokens such as <|im_end|> out of the text (vLLM's skip_special_tokens; =false prints them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "model", "prompt"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	if err := checkCounts(fs, atLeast{"max-new-tokens", *maxNew, 1}); err != nil {
		return err
	}
	if flagsGiven(fs)["system"] && !*chat {
		// Without --chat the prompt is raw text: a system message has no
		// turn to go in, and would be dropped without a word.
		return misuse(fs, "--system is the system message of a --chat prompt: give --chat too, or leave --system out")
	}
	for _, s := range stops {
		if s == "" { // a script's unset variable; the sampler would refuse it once loaded
			return badValue(fs, `--stop "": an empty stop string would end the text before its first token: give the text to stop at, or leave the flag out`)
		}
	}
	switch {
	case *topP == 0: // vLLM refuses it, transformers keeps one token; it is no "off" to guess at
		return badValue(fs, "--top-p 0 keeps no probability mass: give a value in (0, 1] (1 = off; --temperature 0 is greedy)")
	case !(*topP > 0 && *topP <= 1): // the sampler's [0, 1] takes 0 as off, which this flag refuses
		return badValue(fs, "--top-p %g must be in (0, 1] (1 = off)", *topP)
	}
	if err := sample.CheckTemperature(*temp); err != nil { // before float32 holds it
		return badValue(fs, "--%v", err)
	}
	knobs := sample.Options{Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP), MinP: float32(*minP)}
	if err := knobs.CheckDistribution(); err != nil {
		return badValue(fs, "--%v", err)
	}
	// The tokenizer, and an embedding row for each of its tokens, before
	// any device opens.
	tok, err := loadTokenizer(filepath.Join(*dir, "tokenizer.json"))
	if err != nil {
		return err
	}
	if err := rlt.CheckTokenizerRows("--model", *dir, tok.VocabSize()); err != nil {
		return err
	}
	text := *prompt
	if *chat {
		if err := checkChatML(*dir, tok); err != nil {
			return err
		}
		var msgs []tokenizer.Message
		if *system != "" {
			msgs = append(msgs, tokenizer.Message{Role: "system", Content: *system})
		}
		msgs = append(msgs, tokenizer.Message{Role: "user", Content: *prompt})
		text = tokenizer.RenderChatML(msgs, true)
	}
	promptIDs := tok.Encode(text)
	if err := checkPromptFits(*dir, len(promptIDs), *chat); err != nil {
		return err
	}
	// The model and its sampling within the memory where it computes,
	// before the device opens: a GPU too small was found by the load.
	if err := checkGenerateMemory(*dev, *dir, len(promptIDs), *maxNew); err != nil {
		return err
	}
	// A signal, from the device's opening on, stops the text within a
	// token, stdout ended whole, and says so (stopSignals); it killed the
	// command, stdout cut where the signal came, without a word.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	be, err := openDevice("rlt generate", *dev, stderr)
	if err != nil {
		return err
	}
	defer device.Close(be)
	m, err := model.LoadAs(ctx, be, *dir, model.Float32)
	if err := loadStopped(ctx, err, "the model loaded", "token", "run the same command again"); err != nil {
		return err
	}
	if err := deviceCheck(be, "load "+*dir, err); err != nil {
		return err
	}
	stopIDs := rlt.StopIDs(tok)
	out := outputText{tok: tok, skipSpecial: *skipSpecial}
	// Until a sequence ends, a stop string may be forming at the end of
	// its text: vLLM holds that many bytes back, less one, so that none of
	// a stop string left out is ever printed.
	hold := 0
	if !*includeStop {
		for _, s := range stops {
			hold = max(hold, len(s)-1)
		}
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var seqIDs []int32
	printed := 0
	opts := sample.Options{
		Temperature: float32(*temp), TopK: *topK, TopP: float32(*topP), MinP: float32(*minP),
		// Stop strings are looked for in the text as printed, special
		// tokens left out or not, as vLLM matches them.
		MaxNewTokens: *maxNew, StopIDs: stopIDs, StopStrings: stops, Decoder: out, Seed: *seed,
		AllowedVocab: tok.VocabSize(),
		OnStep: func(step int, toks []sample.StepToken) error {
			if ctx.Err() != nil { // the token just sampled is dropped, not printed
				return ctx.Err()
			}
			seqIDs = append(seqIDs, toks[0].ID)
			if toks[0].Reason != sample.Running {
				return nil // the last token's text is cut to the stop below
			}
			// A character cut at the end is held back until a token
			// completes it (outputText.Decode).
			s := out.Decode(seqIDs)
			if n := len(s) - hold; n > printed {
				io.WriteString(w, s[printed:n])
				printed = n
				w.Flush()
			}
			return nil
		},
	}
	tp := compute.NewTape(be)
	res, err := sample.Generate(tp, m, [][]int32{promptIDs}, opts)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintf(w, "\n")
		if err := w.Flush(); err != nil {
			return err
		}
		return fmt.Errorf("stopped by a signal after %s: stdout holds the text printed so far, whole characters, cut short; the same command (--seed %d) gives the whole text", plural(len(seqIDs), "token"), *seed)
	}
	if err != nil {
		return deviceFailed(be, "computing", err)
	}
	if s := out.finished(res[0], stops, *includeStop); len(s) > printed {
		io.WriteString(w, s[printed:])
	}
	fmt.Fprintf(w, "\n")
	w.Flush()
	fmt.Fprintf(stderr, "[%s, stopped by %s]\n", plural(len(res[0].IDs), "token"), stoppedBy(res[0], tok, stopIDs, stops, *maxNew, m.Cfg.MaxPos))
	return nil
}

// checkPromptFits refuses, before any device opens, a prompt of tokens
// tokens that leaves the model in dir no position for a new token (vLLM's
// max_model_len counts the prompt too); chat: the prompt is --prompt
// rendered as a ChatML turn. It is said in the words of every refusal
// past a model's positions (model.PositionsError); the sampler said it
// once the model had loaded, as "sample: a prompt of 400 tokens is longer
// than …".
func checkPromptFits(dir string, tokens int, chat bool) error {
	cfg, _, err := model.Inspect(dir)
	if err != nil {
		return err
	}
	if tokens < cfg.MaxPos {
		return nil
	}
	what, fix := "--prompt", fmt.Sprintf("give a prompt of at most %d tokens", cfg.MaxPos-1)
	if chat {
		what, fix = "--prompt rendered as a --chat turn", fmt.Sprintf("shorten --prompt (or --system) by at least %d tokens", tokens-cfg.MaxPos+1)
	}
	return &model.PositionsError{Model: model.Name("model", dir), What: what, Tokens: tokens, Positions: cfg.MaxPos, Leave: "a new token", Do: fix}
}

// stoppedBy says what ended r in the user's terms: the stop token by its
// text, the --stop string that matched, --max-new-tokens, or the model's
// positions.
func stoppedBy(r sample.Result, tok *tokenizer.Tokenizer, stopIDs []int32, stops []string, maxNew, maxPos int) string {
	switch {
	case r.Reason == sample.StopID && r.Stop >= 0 && r.Stop < len(stopIDs):
		return "the stop token " + tok.Decode(stopIDs[r.Stop:r.Stop+1])
	case r.Reason == sample.StopString && r.Stop >= 0 && r.Stop < len(stops):
		return fmt.Sprintf("the stop string %q", stops[r.Stop])
	case r.Reason == sample.MaxTokens:
		return fmt.Sprintf("--max-new-tokens %d", maxNew)
	case r.Reason == sample.MaxLength:
		return fmt.Sprintf("the model's %d positions (max_position_embeddings)", maxPos)
	}
	return r.Reason.String()
}

// outputText decodes generated ids into the text printed, as vLLM's
// detokenizer does: special tokens left out when skipSpecial
// (skip_special_tokens).
type outputText struct {
	tok         *tokenizer.Tokenizer
	skipSpecial bool
}

// Decode is the text vLLM has returned once ids are generated: its
// detokenizer is a tokenizers DecodeStream primed with the prompt, whose
// text (rlt generate's, tokenized) ends a character, so it is
// DecodeHFStream of the generated ids alone. A character cut at the end is
// held back until a token completes it, and left out if none does; bytes
// that are no UTF-8 read as U+FFFD, one per maximal subpart, as Hugging
// Face's decode reads them.
func (o outputText) Decode(ids []int32) string {
	return o.tok.DecodeHFStream(ids, o.skipSpecial)
}

// finished is the whole text of the finished sequence r, as vLLM returns
// it: the stop token that ended it is not decoded, and a stop string cuts
// the text where it begins, unless include (include_stop_str_in_output),
// which keeps the token, or the text up to the stop string's end. Text a
// token brought after the stop string is dropped either way.
func (o outputText) finished(r sample.Result, stops []string, include bool) string {
	ids := r.IDs
	if r.Reason == sample.StopID && !include {
		ids = ids[:len(ids)-1]
	}
	text := o.Decode(ids)
	if r.Reason == sample.StopString {
		// The text before the last token held no stop string (generation
		// would have ended there), so its first occurrence is this one.
		s := stops[r.Stop]
		if i := strings.Index(text, s); i >= 0 {
			if include {
				i += len(s)
			}
			text = text[:i]
		}
	}
	return text
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// checkChatML refuses --chat for a model whose chat template is not ChatML:
// rendering ChatML for it would silently feed it a format it never saw.
// Each refusal says what to do (dropChat): a template that is not ChatML
// was said with "only ChatML is supported" alone.
func checkChatML(dir string, tok *tokenizer.Tokenizer) error {
	// A chat_template.jinja comes first, as transformers reads it first
	// (DetectTemplate reads it beside a tokenizer_config.json): a folder
	// without that config and with Llama 3's template there was taken
	// for ChatML's by its <|im_start|> token.
	if found, err := tokenizer.TemplateFileOf(dir); found {
		if err != nil {
			return fmt.Errorf("--chat: %w; %s", err, dropChat)
		}
		return nil
	}
	cfg := filepath.Join(dir, "tokenizer_config.json")
	if _, err := os.Stat(cfg); err == nil {
		if _, err := tokenizer.DetectTemplate(cfg); err != nil {
			return fmt.Errorf("--chat: %w; %s", err, dropChat)
		}
		return nil
	}
	if _, ok := tok.ID(tokenizer.ImStart); !ok {
		return fmt.Errorf("--chat: %s has no tokenizer_config.json and its tokenizer has no %s token, so it is not a ChatML model; %s", dir, tokenizer.ImStart, dropChat)
	}
	return nil
}

// dropChat is what to do where --chat is refused for a model that may not
// take ChatML.
const dropChat = "--chat writes --prompt as a ChatML turn (<|im_start|>user … <|im_end|>): drop --chat, and give --prompt as plain text or as a turn written out in the model's own chat format"

// checkGenerateMemory refuses, before the device opens, generating that
// cannot fit where --device dev computes (checkModelsMemory): the model
// in float32 sampling one sequence of the prompt's tokens and maxNew
// more. A folder whose config.json cannot be read is left to its load,
// which says why.
func checkGenerateMemory(dev, dir string, prompt, maxNew int) error {
	u, _, err := heldAs(dir, model.Float32)
	if err != nil {
		return nil
	}
	// Sampling stops at the model's positions (sample.Options.MaxNewTokens):
	// a bound past them needs no more, and prompt+maxNew near int's largest
	// wrapped negative, an estimate of nothing.
	u.Name, u.SampleSeqs, u.SampleT, u.SamplePrompt = "model", 1, prompt+min(maxNew, u.Cfg.MaxPos), prompt
	return checkModelsMemory("generating", dev, memory.Models{Uses: []memory.Use{u}},
		fmt.Sprintf("a shorter --max-new-tokens (now %d)", maxNew))
}
