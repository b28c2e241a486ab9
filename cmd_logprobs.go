package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

const logprobsUsage = `
Usage: rlt logprobs --model DIR [--temperature T] [flags] < in.jsonl > out.jsonl

Reads JSON Lines {"text": "..."} (tokenized with DIR/tokenizer.json) or
{"ids": [...]} and writes, for each, the log-probability of every token given
the ones before it under softmax(logits / T), teacher-forced:
{"ids": [...], "tokens": [...], "logprobs": [null, ...]} (the first token has
no context, so its entry is null). T is at least 2.9e-39 (1/MaxFloat32), as
a run's [grpo] and [reward] temperature is: below it no log-prob is finite.
One line per input line, in order: a
line that cannot be scored, a blank one included, gets
{"line": N, "error": "..."} and the rest go on; the exit status is 1 if any
line failed.

Example:
  echo '{"text": "347+285=?"}' | rlt logprobs --model /tmp/defaults/teacher --temperature 0.7
`

func runLogprobs(args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("rlt logprobs", logprobsUsage, stdout, stderr)
	dir := fs.String("model", "", "Hugging Face model folder (required)")
	dev := deviceFlag(fs, "the model's layers")
	temp := fs.Float64("temperature", 1, "divide logits by this before the softmax")
	weights := weightsFlag(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	prec, err := parseWeights(*weights)
	if err != nil {
		return badValue(fs, "%v", err)
	}
	if err := required(fs, "model"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	// The [grpo]/[reward] rule: below 1/MaxFloat32 every log-prob came
	// out -Inf or NaN, each line's error once the model had loaded.
	if why := record.TemperatureProblem(*temp); why != "" {
		return badValue(fs, "--%s", why)
	}
	// Without a tokenizer, ids can still be scored (tokErr is said for a
	// text line); with one, the embedding has a row for each of its
	// tokens, said before any device opens.
	tok, tokErr := loadTokenizer(filepath.Join(*dir, "tokenizer.json"))
	if _, err := os.Stat(filepath.Join(*dir, "tokenizer.json")); tokErr != nil && errors.Is(err, os.ErrNotExist) {
		// Said for a text line in what this command takes: it has no
		// flag for a tokenizer, so the tokenizer's own "give the
		// tokenizer.json of the model, or the model folder that holds
		// it" named nothing the user could give.
		tokErr = fmt.Errorf(`%s holds no tokenizer.json, which logprobs tokenizes with: put the model's tokenizer.json there, or give the line's token ids, such as {"ids": [18, 19]}`, *dir)
	}
	if tokErr == nil {
		if err := rlt.CheckTokenizerRows("--model", *dir, tok.VocabSize()); err != nil {
			return err
		}
	} else if _, _, err := model.Inspect(*dir); err != nil {
		// No tokenizer: the folder is still checked before a device
		// opens (not there, a file, a run folder, no config.json or
		// weights), as rlt generate's tokenizer checks it, in the words
		// the load said it in ("load model DIR: …").
		return fmt.Errorf("load %w", err)
	}
	// The model and a line's forward within the memory where it
	// computes, before the device opens.
	if err := checkLogprobsMemory(*dev, *dir, prec); err != nil {
		return err
	}
	// A signal while the model loads stops the load (loadStopped): it
	// killed the command without a word. Held until the command ends, so
	// that one that comes as the load ends is not lost before
	// eachJSONLine's handler, which stops it after a line, takes over.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	be, err := openDevice("rlt logprobs", *dev, stderr)
	if err != nil {
		return err
	}
	defer closeDevice(be, &err)
	m, err := model.LoadAs(ctx, be, *dir, prec)
	if err := loadStopped(ctx, err, "the model loaded", "input line", "run the same command again"); err != nil {
		return err
	}
	if err := deviceCheck(be, "load "+*dir, err); err != nil {
		return err
	}
	tp := compute.NewTape(be)
	tp.SetRecording(false)
	return eachJSONLine(stdin, stdout, `{"text": "347+285=?"} or {"ids": [18, 19]}`, func(line []byte) (any, error) {
		var in struct {
			Text *string `json:"text"`
			IDs  []int32 `json:"ids"`
		}
		if err := json.Unmarshal(line, &in); err != nil {
			return nil, errors.New(jsonerr.Say(err))
		}
		ids := in.IDs
		switch {
		case in.Text != nil && ids != nil:
			return nil, fmt.Errorf(`give "text" or "ids", not both`)
		case in.Text != nil:
			if tokErr != nil {
				return nil, fmt.Errorf(`cannot tokenize "text": %v`, tokErr)
			}
			if err := loneSurrogate(line); err != nil {
				return nil, err
			}
			ids = tok.Encode(*in.Text)
		case ids == nil:
			return nil, noTextOrIDs(line)
		}
		if len(ids) == 0 { // which input was empty, and what to give: "no tokens" said neither
			switch {
			case in.Text == nil:
				return nil, errors.New(`"ids" is empty: give at least one token id, such as {"ids": [18, 19]}`)
			case *in.Text == "":
				return nil, errors.New(`"text" is empty: give a text to score, such as {"text": "347+285=?"}`)
			default:
				return nil, fmt.Errorf(`"text" %q takes no tokens under %s: give a text it tokenizes, or the token ids, such as {"ids": [18, 19]}`, *in.Text, filepath.Join(*dir, "tokenizer.json"))
			}
		}
		for i, id := range ids { // said in the file's words, not the embedding's
			if id < 0 || int(id) >= m.Cfg.Vocab {
				return nil, fmt.Errorf(`"ids"[%d] is %d, not a token id of this model: its vocabulary is 0..%d`, i, id, m.Cfg.Vocab-1)
			}
		}
		if len(ids) > m.Cfg.MaxPos { // in the words of every refusal past a model's positions
			what, fix := `"ids"`, fmt.Sprintf("give at most %d ids", m.Cfg.MaxPos)
			if in.Text != nil {
				what, fix = `"text"`, fmt.Sprintf("give a text of at most %d tokens", m.Cfg.MaxPos)
			}
			return nil, &model.PositionsError{Model: model.Name("model", *dir), What: what, Tokens: len(ids), Positions: m.Cfg.MaxPos, Do: fix}
		}
		targets := make([]int32, len(ids))
		for i := range targets {
			targets[i] = -1
			if i+1 < len(ids) {
				targets[i] = ids[i+1]
			}
		}
		tp.Reset()
		lp := m.TokenLogProbs(tp, &model.Batch{B: 1, T: len(ids), Tokens: ids}, targets, float32(1 / *temp))
		if err := tp.Err(); err != nil {
			return nil, err
		}
		vals := make([]float32, lp.Len())
		if err := compute.ReadBack(be, vals, lp); err != nil { // a lost device reads back zeros
			return nil, err
		}
		out := make([]*float64, len(ids))
		for i := 1; i < len(ids); i++ {
			v := float64(vals[i-1])
			if math.IsInf(v, 0) || math.IsNaN(v) {
				// JSON has no such number: said on this line, not as the
				// encoder's error ending the command with no line named.
				return nil, nonFiniteLogprob(i, v, *temp)
			}
			out[i] = &v
		}
		var toks []string
		if tokErr == nil {
			toks = make([]string, len(ids))
			for i, id := range ids {
				toks[i] = tok.TokenString(id)
			}
		}
		return struct {
			IDs      []int32    `json:"ids"`
			Tokens   []string   `json:"tokens,omitempty"`
			LogProbs []*float64 `json:"logprobs"`
		}{ids, toks, out}, nil
	})
}

// noTextOrIDs says what a line that gives neither "text" nor "ids" gives
// instead: a null in either (said as null, with what to write), or
// neither key.
func noTextOrIDs(line []byte) error {
	switch text, ids := nullFields(line); {
	case text && ids:
		return errors.New(`fields "text" and "ids" are null: give one of them, the text as a JSON string ({"text": "347+285=?"}) or the token ids as a list ({"ids": [18, 19]})`)
	case text:
		return errors.New(`field "text" is null where text is wanted: write the text as a JSON string, such as {"text": "347+285=?"}, or give the token ids as {"ids": [18, 19]}`)
	case ids:
		return errors.New(`field "ids" is null where a list of token ids is wanted: write them as a list, such as {"ids": [18, 19]}, or give the text as {"text": "347+285=?"}`)
	}
	return errors.New(`missing "text" or "ids"`)
}

// nonFiniteLogprob says that token i's log-prob came out v, ±Inf or NaN,
// which no JSON number holds: at a temperature far below 1 the logits
// divided by it overflow float32 (--temperature 1e-38 gives -Inf).
func nonFiniteLogprob(i int, v, temp float64) error {
	why := "the model's logits overflow float32"
	if temp < 1 {
		why = fmt.Sprintf("at --temperature %g the logits divided by it overflow float32; give a larger --temperature", temp)
	}
	return fmt.Errorf(`the log-prob of "ids"[%d] is %v, which JSON cannot hold: %s`, i, v, why)
}

// checkLogprobsMemory refuses, before the device opens, log-probs that
// cannot fit where --device dev computes (checkForwardsMemory: forwards alone): the model
// held as --weights says and a forward of a line of memory.PromptTokens
// tokens (the model's positions, if fewer). The lines are read after the
// check, one forward each, and no flag bounds them: a forward as long as
// the model's positions, which few lines come near, refused on a
// 131,072-position 0.5B model 15 GiB where the command runs short lines
// in 1 GiB, and nothing but a smaller model would have made it fit. A
// folder whose config.json cannot be read is left to its load, which
// says why.
func checkLogprobsMemory(dev, dir string, prec model.Precision) error {
	u, stored16, err := heldAs(dir, prec)
	if err != nil {
		return nil
	}
	line := min(memory.PromptTokens, u.Cfg.MaxPos)
	u.Name, u.ForwardRows, u.ForwardT = "model", line, line
	return checkForwardsMemory("scoring log-probs", dev, memory.Models{Uses: []memory.Use{u}}, weightsFix(u, stored16)...)
}
