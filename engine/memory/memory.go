// Package memory estimates, before anything is loaded, the memory a command
// will need from the shapes of its models and its settings, and reads what
// the machine has, so that a command that cannot fit stops at once with the
// numbers and what would make it fit, instead of being killed by the
// kernel half-way through. The estimates are pure functions of shapes and
// settings; Available is the one place that reads the machine.
package memory

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/size"
)

// Part is one line of an estimate.
type Part struct {
	What  string
	Bytes int64
}

// Estimate is what a command needs, part by part.
type Estimate struct{ Parts []Part }

// Total is the sum of the parts.
func (e Estimate) Total() int64 {
	var n int64
	for _, p := range e.Parts {
		n += p.Bytes
	}
	return n
}

func (e *Estimate) add(what string, b int64) { e.Parts = append(e.Parts, Part{what, b}) }

// packed counts, on the CPU, the copy of a sampled model's matrices the
// sampler has the backend lay out once for its decode steps
// (model.Model.Freeze; model.Config.FrozenBytes), kept for the rest of the
// process: a float32 model's, as large as its weights again (1.84 GiB for
// Qwen2.5-0.5B); a 16-bit one is widened at each product instead, and a
// GPU's weights sit in place. Uncounted, a 0.5B GRPO step's estimate,
// 10.44 GiB, was under its peak RSS, 11.82–11.92 GiB (bench/fit.sh).
func (e *Estimate) packed(cpu bool, whose string, c model.Config, held compute.DType) {
	if cpu && held == compute.F32 {
		e.add(whose+" matrices packed for sampling (float32, kept)", c.FrozenBytes())
	}
}

// driver counts the Vulkan driver a probe left loaded (ProbeDriver) where
// probed (device.Memory.Probed): every estimate's one line for it.
func (e *Estimate) driver(probed bool) {
	if probed {
		e.add("the Vulkan driver --device auto loaded to look for a GPU", ProbeDriver)
	}
}

// String lists the parts and the total.
func (e Estimate) String() string {
	var parts []string
	for _, p := range e.Parts {
		parts = append(parts, fmt.Sprintf("%s %s", p.What, size.Bytes(p.Bytes)))
	}
	return fmt.Sprintf("about %s (%s)", size.Bytes(e.Total()), strings.Join(parts, "; "))
}

// Runtime is what the process needs beside the numbers: the Go runtime,
// the code, tokenizers, buffers.
const Runtime = 64 << 20

// ProbeDriver is the resident memory a Vulkan driver keeps once --device
// auto has looked for a GPU and found none, for the rest of a run that
// then computes on the CPU: lavapipe's (LLVM) here, 64 MiB by peak RSS
// (rlt train refused by RLT_MEMORY_LIMIT after its probe: 98 MB; rlt
// train --print-config: 34 MB). A run of the embedded default peaked at
// 344–370 MiB so, and at 314 MiB with --device cpu.
const ProbeDriver = 64 << 20

// slack covers the arenas' size classes (at most a quarter over) and the
// garbage collector's headroom over what is live.
const slack = 1.25

// weights is the memory of a model's parameters held as dt.
func weights(c model.Config, dt compute.DType) int64 {
	return int64(c.NumParams()) * int64(dt.Size())
}

// headChunk is the most logits (and logit gradients) the fused LM head
// holds at once: it works through tiles of rows by blocks of the
// vocabulary.
const headChunk = compute.HeadTileFloats

// head is the memory of the fused head's logits over rows rows.
func head(c model.Config, rows int) int64 {
	return 4 * min(int64(rows)*int64(c.Vocab), headChunk)
}

// Forward is the memory of a no-grad forward pass over seqs sequences of t
// tokens whose log-probs are taken at rows of them: one layer's activations
// at a time (the tape keeps no more without recording; in fact the larger
// half of a layer's), and the head's tile of logits.
func Forward(c model.Config, seqs, t, rows int) int64 {
	n := seqs * t
	return c.ActivationBytes(n)/int64(c.Layers) + head(c, rows)
}

// Backward is the memory of a recorded forward pass and its backward over
// seqs sequences of t tokens: every layer's activations, and the
// gradients of one layer's (the tape gives an activation's gradient back
// to its arena once the op that made it has run backward, so the arena
// holds what one layer's backward has alive: measured 0.6–0.8 of one
// layer's activations, compute.Tape.replay); or, with checkpointed layers,
// each layer's output and the residual stream's gradients, with one
// layer's activations and their gradients at a time (the scratch tape's);
// and the head's chunk of logits with its gradient. It counted as much
// again as every layer's activations for their gradients before, which
// the tape never holds: `rlt pretrain`'s estimate was 2× its peak.
func Backward(c model.Config, seqs, t int, checkpoint bool) int64 {
	n := seqs * t
	acts := c.ActivationBytes(n)
	layer := acts / int64(c.Layers)
	if checkpoint {
		residual := 4 * int64(n) * int64(c.Hidden)
		acts = residual*int64(c.Layers) + 2*residual + 2*layer
	} else {
		acts += layer
	}
	return acts + 2*head(c, n)
}

// KVCache is the memory of float32 keys and values for seqs sequences of t
// tokens.
func KVCache(c model.Config, seqs, t int) int64 {
	return 4 * 2 * int64(c.Layers) * int64(seqs) * int64(t) * int64(c.KVHeads*c.HeadDim())
}

// PromptTokens is the prompt length an estimate assumes before any data is
// read: more than the synthetic tasks' prompts, less than a long question.
const PromptTokens = 128

// Positions is how many token positions one forward of seqs sequences of t
// tokens holds when it runs in micro-batches of at most maxRows sequences
// (0: no limit) and maxTokens padded positions (0: no limit), as
// model.MicroBatches cuts them: a micro-batch holds at least one sequence.
func Positions(seqs, t, maxRows, maxTokens int) int {
	rows := seqs
	if maxRows > 0 {
		rows = min(rows, maxRows)
	}
	n := rows * t
	if maxTokens > 0 {
		n = min(n, max(maxTokens, t))
	}
	return n
}

// SamplingAfter is the memory of sampling seqs sequences of up to t tokens
// after prompts of up to prompt tokens: their KV cache, and the smaller
// caches the sequences still running move to as the batch finishes
// (shrinkCaches: half the batch again; sample.Options.KeepBatch); the
// prefill's activations, the prompts run a stretch of at most
// sample.PrefillTokens positions at a time (at least a position of each
// sequence); and each decode step's logits, [seqs, vocab] in float32,
// with the copy the host draws from.
//
// The caches are counted at the larger of what they hold as the batch
// finishes and what they hold while the cache grows (cacheGrowth): a
// cache is made anew, longer, as its sequences fill it, the old one
// alive until copied. Left out, rlt eval of a student of 2 steps (200
// questions, 160 tokens, its sequences all running to the budget) was
// estimated at 226.8 MiB and peaked at 262,344–266,148 kB RSS.
func SamplingAfter(c model.Config, seqs, prompt, t int) int64 {
	maxNew := t - prompt
	if t >= c.MaxPos { // cut at the positions: the new tokens asked may be more
		maxNew = c.MaxPos
	}
	kept, growing := samplingKV(c, seqs, prompt, t, maxNew)
	return max(kept, growing) + prefillBytes(c, seqs, prompt) + 2*4*int64(seqs)*int64(c.Vocab)
}

// samplingKV is what the KV caches of seqs sequences of up to t tokens
// (maxNew new ones, cut at the model's positions) after prompts of up to
// prompt tokens hold: kept, the caches a sampler ends with and keeps for
// its next call (the batch's, and the smaller ones' arenas,
// shrinkCaches), and growing, the most while one grows (cacheGrowth; 0
// where none does).
func samplingKV(c model.Config, seqs, prompt, t, maxNew int) (kept, growing int64) {
	return KVCache(c, seqs+shrinkCaches(seqs), t), cacheGrowth(c, seqs, prompt, maxNew)
}

// cacheGrowth is the most the KV caches of seqs sequences of up to
// maxNew new tokens after prompts of up to prompt tokens hold while one
// grows (sample.Generator.grow, model.Model.GrowCache): a cache starts
// with room for the prompt and sample.FirstStretch new tokens, and each
// time it fills it is made anew with twice the stretch (at most the
// whole), the old one alive until its keys and values are copied in
// through two staging buffers of one layer's keys (the old length's and
// the new's). The last growth, to the whole, is the largest: from the
// longest stretch short of it. Where the smaller caches of a finishing
// batch (shrinkCaches) are there, the full one and an arena of half the
// batch stay beside a half batch's growth. A batch whose longest prompt
// is shorter grows its own way: the most over every prompt up to prompt.
// A sampler keeps its cache for its next call and starts the next batch
// at the length the last reached, both of the same stretches, so fewer
// growths; a cache kept from a batch of other prompts is not followed.
// 0 where no cache grows: maxNew within the first stretch.
func cacheGrowth(c model.Config, seqs, prompt, maxNew int) int64 {
	perToken := KVCache(c, 1, 1)
	staging := int64(2 * c.Layers) // a staging buffer is one layer's keys
	half := int64(shrinkCaches(seqs))
	var most int64
	for p := 1; p <= prompt && p < c.MaxPos; p++ {
		maxLen := p + min(maxNew, c.MaxPos-p) - 1
		stretch := sample.FirstStretch
		if p+stretch >= maxLen {
			continue
		}
		for p+2*stretch < maxLen {
			stretch *= 2
		}
		from, to := int64(p+stretch), int64(maxLen)
		whole := int64(seqs) * (from + to) * perToken // the batch's old and new
		whole += whole / staging
		halved := ((int64(seqs)+half)*from + half*to) * perToken // the full cache, the arena, the half's new
		halved += half * (from + to) * perToken / staging
		most = max(most, whole, halved)
	}
	return most
}

// prefillBytes is the activations a prefill of seqs prompts of up to
// prompt tokens holds: one layer's, over a stretch of at most
// sample.PrefillTokens positions (at least a position of each sequence).
func prefillBytes(c model.Config, seqs, prompt int) int64 {
	return c.ActivationBytes(min(seqs*max(prompt, 1), max(seqs, sample.PrefillTokens))) / int64(c.Layers)
}

// shrinkCaches is the sequences the smaller caches of a batch of seqs hold
// together: sample.Generator moves the running sequences to a cache of
// half the batch (rounded up) once half have finished, then of half of
// that, each made within one of two arenas taking turns, the full cache
// and one of half the batch (kept for the next call): half the batch
// again. (Each smaller cache had its own memory before: as many
// sequences again, less one.)
func shrinkCaches(seqs int) int {
	if seqs < 2 {
		return 0
	}
	return (seqs + 1) / 2
}

// GRPO describes a GRPO run for its estimate.
type GRPO struct {
	Teacher, Student model.Config
	// StudentHeld and RefHeld are the types the student and the
	// reference hold their matrices in (F32, or BF16/F16 when loaded frozen
	// in 16 bits); the teacher is trained in float32.
	StudentHeld, RefHeld                         compute.DType
	Questions, Samples, MaxNewTokens, MicroBatch int
	// MicroBatchTokens is grpo.micro_batch_tokens: the scoring forwards
	// and the policy's micro-batches hold at most that many padded
	// positions (0: no limit).
	MicroBatchTokens int
	// CheckpointLayers is the policy's grpo.checkpoint_layers.
	CheckpointLayers runconfig.CheckpointMode
	// Probed is set where the run computes on the CPU after --device auto
	// looked for a GPU: the driver it loaded stays (ProbeDriver).
	Probed bool
	// OnGPU is set where the run computes on a GPU, whose frozen weights
	// sit in place; on the CPU a sampled float32 model's matrices are
	// packed again for the decode steps (packed).
	OnGPU bool
	// EvalSeqs is the held-out questions an evaluation (eval_every > 0)
	// answers at once: eval_questions, at most run.EvalBatch; 0 where the
	// run evaluates nothing.
	EvalSeqs int
	// Reconstruct is grpo.reconstruct: the student then samples its
	// solution after each explanation (its own KV caches).
	Reconstruct bool
	// Solution is the most tokens a question's solution takes (encoded
	// alone, as rlt.Trainer encodes it for the reconstruction's budget),
	// and BeforeSolution the most the student's context takes before its
	// solution, its explanation left out (a row's student context less
	// its solution: over by the solution's end tags): the reconstruction
	// continues that context and the explanation, and asks for the
	// longest solution of the step and ReconstructMargin more. 0 where
	// not known: a solution within the sampler's first stretch is assumed
	// (the reconstruction's cache then never grows), the student's
	// context holding it.
	Solution, BeforeSolution int
	// TeacherPrompt and StudentPrompt are the most tokens the teacher's
	// prompt and the student's context (its explanation left out) take
	// for the run's questions, measured before anything loads (Prompts
	// says how); 0 where nothing is known: PromptTokens is assumed.
	TeacherPrompt, StudentPrompt int
	// Prompts says, in the estimate's words, what the prompt lengths are
	// of ("the task's widest question"); "" with PromptTokens assumed.
	Prompts string
	// LongestRow names the data row whose teacher prompt is
	// TeacherPrompt ("data.jsonl line 2"), where the prompts are a data
	// file's rows' and it has others; NextTeacherPrompt and
	// NextStudentPrompt are then the longest of the other rows' (Fixes
	// says what the run needs without it).
	LongestRow                           string
	NextTeacherPrompt, NextStudentPrompt int
	// Stored16 reports whether 16-bit checkpoints would be kept in 16 bits
	// with frozen_weights = "checkpoint" (for the advice).
	Stored16 bool
	// DeviceHead is, on a GPU, the fused head's logits buffer there
	// (device.Memory.HeadBytes): bigger chunks of logits than the CPU's
	// tiles, which keep the GPU busy. 0 on the CPU.
	DeviceHead int64
	// DeviceScratch is, on a GPU, the bound of what its ops hold beside
	// the tensors and the head's logits for a run's shapes, one for each
	// model and kind of pass (device.Memory.Scratch: attention's buffers,
	// split products' partials, the head's rows); nil or 0 on the CPU.
	DeviceScratch func(first vulkan.Shapes, more ...vulkan.Shapes) int64
}

// prompts is the teacher's prompt and the student's context the estimate
// counts, and its words for them: those measured, or PromptTokens
// assumed where nothing is known.
func (g GRPO) prompts() (teacher, student int, words string) {
	if g.TeacherPrompt <= 0 || g.StudentPrompt <= 0 {
		return PromptTokens, PromptTokens, fmt.Sprintf("a prompt of %d tokens assumed", PromptTokens)
	}
	return g.TeacherPrompt, g.StudentPrompt, fmt.Sprintf("prompts of up to %d tokens, %s", g.TeacherPrompt, g.Prompts)
}

// upTo is a sequence's length: a prompt of prompt tokens and maxNew more,
// cut at maxPos positions as sampling cuts it. Not min(prompt+maxNew,
// maxPos): a max_new_tokens near int's largest wrapped that sum negative,
// and the estimate counted sequences of no tokens.
func upTo(prompt, maxNew, maxPos int) int {
	if maxNew > maxPos-prompt {
		return maxPos
	}
	return prompt + maxNew
}

// Fixed is the part of a GRPO run's estimate that lives the whole run
// whatever its step's settings: the teacher's float32 weights, gradients
// and AdamW moments, the reference and the student, and on the CPU the
// copies of their matrices packed for sampling. Only smaller models (or
// 16-bit ones, Fixes' last) shrink it.
func (g GRPO) Fixed() Estimate {
	var e Estimate
	e.add("teacher weights (float32)", weights(g.Teacher, compute.F32))
	e.add("gradients and AdamW moments", 3*weights(g.Teacher, compute.F32))
	e.add(fmt.Sprintf("reference (%v)", g.RefHeld), weights(g.Teacher, g.RefHeld))
	e.add(fmt.Sprintf("student (%v)", g.StudentHeld), weights(g.Student, g.StudentHeld))
	e.packed(!g.OnGPU, "the teacher's", g.Teacher, compute.F32)
	if g.Reconstruct || g.EvalSeqs > 0 {
		e.packed(!g.OnGPU, "the student's", g.Student, g.StudentHeld)
	}
	return e
}

// Estimate is what one GRPO step needs at its peak.
func (g GRPO) Estimate() Estimate {
	var e Estimate
	seqs := g.Questions * g.Samples
	tp, sp, words := g.prompts()
	t := upTo(tp, g.MaxNewTokens, g.Teacher.MaxPos)
	// The student's sequences: its context and the explanation; the
	// scoring forwards hold the longer of the two models'.
	st := upTo(sp, g.MaxNewTokens, g.Student.MaxPos)
	mb := g.MicroBatch
	if mb <= 0 || mb > seqs {
		mb = seqs
	}
	e.Parts = g.Fixed().Parts
	// The no-grad tape's arena holds the largest of what runs on it in
	// turn (rlt.NewTrainer): the scoring forwards, the student's
	// reconstructions' prefill and the reference's log-probs of each
	// micro-batch (each a bound well over what it holds: Forward). They
	// were added before, as if each pass held its own. The policy's tape
	// runs the sampling's prefill, then the micro-batches' forward and
	// backward: its arena's slots, taken in order, are each as large as
	// the larger use of it, which can come to both together (measured:
	// 69 MiB of activations at the embedded default where the policy's
	// alone are about 55).
	kept, growing := samplingKV(g.Teacher, seqs, tp, t, g.MaxNewTokens)
	e.add(fmt.Sprintf("sampling %d sequences of %d tokens (%s; KV caches, logits)", seqs, t, words), kept+2*4*int64(seqs)*int64(g.Teacher.Vocab))
	noGrad := int64(0)
	growth, growthOf := growing-kept, "the teacher's sampling"
	if g.Reconstruct {
		// The student's greedy solution after each explanation: the
		// longest solution of the step and ReconstructMargin more, after
		// its context before the solution and the explanation. Its cache
		// grows as the teacher's does once the solution runs past the
		// first stretch (a data file's solutions of GSM8K's or MATH's
		// length); it was counted as 8 new tokens after the whole
		// student sequence, the solution taken as part of the prompt.
		rp, rNew := g.reconstruction(sp)
		rt := upTo(rp, rNew, g.Student.MaxPos)
		rKept, rGrowing := samplingKV(g.Student, seqs, rp, rt, rNew)
		e.add(fmt.Sprintf("the student's reconstructions, %d sequences of %d tokens, up to %d new (KV caches, logits)", seqs, rt, rNew), rKept+2*4*int64(seqs)*int64(g.Student.Vocab))
		noGrad = prefillBytes(g.Student, seqs, rp)
		if rGrowing-rKept > growth {
			growth, growthOf = rGrowing-rKept, "the student's reconstructions"
		}
	}
	// A completion is cut at the model's positions: max_new_tokens past
	// them (a run may set any) scores no more rows. The student and the
	// teacher score one micro-batch of micro_batch_tokens at a time.
	score := Positions(seqs, max(t, st), 0, g.MicroBatchTokens)
	rows := min(score, seqs*min(g.MaxNewTokens, t))
	policy := Positions(seqs, t, mb, g.MicroBatchTokens)
	noGrad = max(noGrad, Forward(g.Student, 1, score, rows), Forward(g.Teacher, 1, score, rows), Forward(g.Teacher, 1, policy, policy))
	e.add(fmt.Sprintf("scoring %d sequences (student and teacher), %d positions a forward; the reference's log-probs", seqs, score), int64(float64(noGrad)*slack))
	// The cache grows (cacheGrowth) in a step whose sequences run past
	// the length every step before reached (sample.Generator starts a
	// call at it): the first step's, before the no-grad tape's arena is
	// made, or a later one's, beside that arena and the policy tape's,
	// which the trainer keeps from step to step (a first step whose
	// sequences stop at 300 of 1,024 new tokens grows to 512; a later one
	// that runs to the budget grows to the whole then). Where the growth
	// holds more than the caches kept, the rest is counted. It was
	// counted past the no-grad arena alone, as if no later step grew:
	// 0.96 GiB under at the official 0.5B setting. The student's
	// reconstruction cache grows the same way, at another time of the
	// step, beside the teacher's caches kept: the larger growth counts.
	if growth > 0 {
		e.add(fmt.Sprintf("the KV cache growing in a step whose sequences run longer than any before, past the caches kept (%s)", growthOf), growth)
	}
	ck := g.CheckpointLayers.On(g.Teacher.ActivationBytes(policy))
	e.add(fmt.Sprintf("policy forward and backward, micro-batch of %d positions (at most %d × %d tokens; checkpointed layers: %v)", policy, mb, t, ck),
		int64(float64(Backward(g.Teacher, 1, policy, ck)+prefillBytes(g.Teacher, seqs, tp))*slack))
	if g.EvalSeqs > 0 {
		// Between steps the teacher explains the held-out questions
		// (greedy, one each) and the student answers (16 tokens after its
		// context and the explanation), each with a sampler and a tape of
		// its own, beside what the step keeps (its tapes' arenas, its
		// sampler's caches): it adds to the step's peak. The two take
		// turns on one tape (run.EvalTeacherResults), whose arena holds
		// the larger prefill. Measured at the
		// embedded default, --device cpu, 3 steps: 299,084 kB of peak RSS
		// without an evaluation, 321,804 kB with one of 32 questions each
		// step, 536,856 kB with 256 (288,816 without), where the estimate
		// said 379.6 MiB for all four.
		et := min(st+16, g.Student.MaxPos)
		e.add(fmt.Sprintf("held-out evaluation, %d questions at once (the teacher's explanations of %d tokens, the student's answers of %d; KV caches, prefill, logits)", g.EvalSeqs, t, et),
			SamplingAfter(g.Teacher, g.EvalSeqs, tp, t)-prefillBytes(g.Teacher, g.EvalSeqs, tp)+
				SamplingAfter(g.Student, g.EvalSeqs, st, et)-prefillBytes(g.Student, g.EvalSeqs, st)+
				max(prefillBytes(g.Teacher, g.EvalSeqs, tp), prefillBytes(g.Student, g.EvalSeqs, st)))
	}
	e.add("rotary tables (teacher, reference, student)", 2*g.Teacher.RoPEBytes()+g.Student.RoPEBytes())
	if g.DeviceHead > 0 {
		e.add("the fused head's logits on the GPU", g.DeviceHead)
	}
	e.driver(g.Probed)
	if g.DeviceScratch != nil {
		// The teacher samples (prefilling in stretches, Sampling's; seqs
		// rows drawn at once) and scores as the reference, forward only;
		// it trains on the policy's micro-batches, backward too, the
		// gradient's norm walking its parameters; the student scores,
		// forward only.
		prefill := min(seqs*tp, max(seqs, sample.PrefillTokens))
		sampling := shapesOf(max(prefill, score), t, g.Teacher)
		sampling.Draws, sampling.Candidates = seqs, sample.ShortlistCapacity
		train := shapesOf(policy, t, g.Teacher)
		train.Params, train.Tensors, train.Backward = g.Teacher.NumParams(), g.Teacher.NumTensors(), true
		if b := g.DeviceScratch(sampling, train, shapesOf(score, st, g.Student)); b > 0 {
			e.add(scratchPart, b)
		}
	}
	e.add("runtime", Runtime)
	return e
}

// ReconstructMargin is how many new tokens past the longest solution of
// a step the student's reconstruction asks for (rlt.Trainer).
const ReconstructMargin = 8

// reconstruction is the longest prompt of the student's reconstructions,
// its context before the solution and the explanation (cut short of the
// student's positions), and the new tokens they ask for: the longest
// solution and ReconstructMargin more. Where the solutions are not
// known (Solution), one of sample.FirstStretch less the margin is
// assumed within the student context sp: no growth, the length counted
// before the solutions were.
func (g GRPO) reconstruction(sp int) (prompt, maxNew int) {
	before, solution := g.BeforeSolution, g.Solution
	if solution <= 0 || before <= 0 {
		solution = sample.FirstStretch - ReconstructMargin
		before = max(sp-solution, 1)
	}
	return min(upTo(before, g.MaxNewTokens, g.Student.MaxPos), g.Student.MaxPos-1), solution + ReconstructMargin
}

// scratchPart names the GPU's scratch bound in an estimate.
const scratchPart = "the GPU's scratch beside the tensors (attention, split products, the head's rows; a bound)"

// shapesOf are the shapes of forwards of rows positions in sequences of t
// tokens through model c, for the GPU's scratch bound (forward only:
// Backward marks a training's).
func shapesOf(rows, t int, c model.Config) vulkan.Shapes {
	return vulkan.Shapes{Rows: rows, T: t, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim(),
		Hidden: c.Hidden, Intermediate: c.Intermediate, Vocab: c.Vocab}
}

// Largest names the run's largest weight tensor as it is held, and its
// bytes: the teacher's in float32, the reference's and the student's as
// they are held.
func (g GRPO) Largest() Tensor {
	return largest(held{"the teacher's", g.Teacher, compute.F32}, held{"the reference's", g.Teacher, g.RefHeld},
		held{"the student's", g.Student, g.StudentHeld})
}

// FixesWithin is what would make a GRPO run fit in room bytes: Fixes,
// where its fixed parts (Fixed) fit there; else only what shrinks them.
// A 1.5B teacher's fixed parts alone are ~36 GiB, a 7B's ~158: no
// micro-batch, token budget or number of sequences closes that, and
// offering them sent a user through settings that could never fit.
func (g GRPO) FixesWithin(room int64) []string {
	fixed := g.Fixed()
	if fixed.Total() <= room {
		return g.Fixes()
	}
	f := []string{fmt.Sprintf("a smaller teacher or student: the models alone need %s, more than the %s there, which no setting of the step "+
		"(grpo.micro_batch, micro_batch_tokens, questions, samples, max_new_tokens) shrinks: the teacher is trained in float32, "+
		"16 bytes a parameter with its gradients and AdamW moments (%s for its %.2f billion)",
		fixed, size.Bytes(room), size.Bytes(4*weights(g.Teacher, compute.F32)), float64(g.Teacher.NumParams())/1e9)}
	if s := g.sixteenBits(); s != "" {
		f = append(f, s)
	}
	return append(f, fmt.Sprintf("a larger machine or GPU: this pair needs about %s in all (the whole estimate)", size.Bytes(g.Estimate().Total())))
}

// sixteenBits is the fix that holds the student and the reference in 16
// bits, where they are held in float32 ("" where they are not).
func (g GRPO) sixteenBits() string {
	switch {
	case g.StudentHeld != compute.F32 && g.RefHeld != compute.F32:
		return ""
	case g.Stored16:
		return `grpo.frozen_weights = "checkpoint": the 16-bit checkpoints' student and reference in half the memory`
	}
	return "BF16 checkpoints of the teacher and student: the student and the reference are then held in 16 bits (half the memory)"
}

// Fixes says what would make a GRPO run need less, largest saving first:
// the data's longest row first, where leaving it out saves a tenth of the
// estimate or more (longestRowFix).
func (g GRPO) Fixes() []string {
	var f []string
	if s := g.longestRowFix(); s != "" {
		f = append(f, s)
	}
	if s := g.reconstructFix(); s != "" {
		f = append(f, s)
	}
	seqs := g.Questions * g.Samples
	if g.MicroBatch <= 0 || g.MicroBatch > 1 {
		f = append(f, fmt.Sprintf("a smaller grpo.micro_batch (now %d: activations grow with it)", g.MicroBatch))
	}
	tp, _, _ := g.prompts()
	if t := upTo(tp, g.MaxNewTokens, g.Teacher.MaxPos); g.MicroBatchTokens <= 0 || g.MicroBatchTokens > t {
		now := "no limit"
		if g.MicroBatchTokens > 0 {
			now = fmt.Sprint(g.MicroBatchTokens)
		}
		f = append(f, fmt.Sprintf("a smaller grpo.micro_batch_tokens (now %s; at least a prompt and its completion, %d): the positions each scoring and policy forward holds", now, t))
	}
	if seqs > 2 {
		f = append(f, fmt.Sprintf("fewer grpo.questions × grpo.samples (now %d × %d sequences sampled at once)", g.Questions, g.Samples))
	}
	f = append(f, fmt.Sprintf("a shorter grpo.max_new_tokens (now %d)", g.MaxNewTokens))
	if s := g.sixteenBits(); s != "" {
		f = append(f, s)
	}
	return f
}

// longestRowFix is the fix that leaves the data's longest row out, with
// what the run needs without it, where that saves a tenth of the estimate
// or more; "" where it does not, or no row is named. The estimate sizes
// every step's sequences for the longest prompt: one question of 24k
// tokens among short ones asked 129 GiB of a 0.5B-shaped pair that needs
// 15 without it, and the step's settings were all the advice said.
func (g GRPO) longestRowFix() string {
	if g.LongestRow == "" || g.NextTeacherPrompt <= 0 || g.NextStudentPrompt <= 0 {
		return ""
	}
	without := g
	without.TeacherPrompt, without.StudentPrompt, without.LongestRow = g.NextTeacherPrompt, g.NextStudentPrompt, ""
	need, less := g.Estimate().Total(), without.Estimate().Total()
	if need-less < need/10 {
		return ""
	}
	return fmt.Sprintf("leave out or shorten %s, the data's longest row (a teacher prompt of %d tokens; the next longest row's is %d), "+
		"or set max_prompt_tokens = %d, which leaves out every row longer: "+
		"every sequence of a step is counted at the longest prompt, and without that row this run needs about %s",
		g.LongestRow, g.TeacherPrompt, g.NextTeacherPrompt, g.NextTeacherPrompt, size.Bytes(less))
}

// reconstructFix is the fix that turns the student's reconstructions
// off, with what the run needs without them, where that saves a tenth of
// the estimate or more; "" where it does not. They are for the traces
// alone (no reward reads them), and with a data file's solutions of
// GSM8K's or MATH's length their KV caches, grown for the longest
// solution and ReconstructMargin more, can be the largest part of a
// step: 59.48 GiB of the 126.06 at the official 0.5B setting with
// solutions of 200 tokens (TestFixesNameTheReconstructions), where the
// advice named only the step's settings.
func (g GRPO) reconstructFix() string {
	if !g.Reconstruct {
		return ""
	}
	without := g
	without.Reconstruct = false
	need, less := g.Estimate().Total(), without.Estimate().Total()
	if need-less < need/10 {
		return ""
	}
	return fmt.Sprintf("grpo.reconstruct = false: the student's reconstructions of the solutions, for the traces alone (no reward reads them), "+
		"hold KV caches for the longest solution and %d tokens more after each explanation; without them this run needs about %s",
		ReconstructMargin, size.Bytes(less))
}

// Score describes `rlt score` for its estimate.
type Score struct {
	Teacher, Student         model.Config
	TeacherHeld, StudentHeld compute.DType
	// TeacherServed and StudentServed mark a model scored through an
	// inference server: it holds nothing here, and its config is unused.
	TeacherServed, StudentServed bool
	Batch, Tokens                int // items scored together, tokens per item
	// MicroBatchTokens is --micro-batch-tokens: each forward holds at most
	// that many padded positions (0: no limit).
	MicroBatchTokens int
	Stored16         bool
	// DeviceHead is, on a GPU, the fused head's logits buffers scoring's
	// forwards hold there: a forward chunk's (device.Memory.HeadForwardBytes),
	// or with the full estimator's KL, whose chunks hold both models'
	// logits beside it, GRPO.DeviceHead's (device.Memory.HeadBytes); 0 on
	// the CPU.
	DeviceHead int64
	// DeviceScratch is, on a GPU, its ops' scratch bound (as
	// GRPO.DeviceScratch), asked for forwards only; nil or 0 on the CPU.
	DeviceScratch func(first vulkan.Shapes, more ...vulkan.Shapes) int64
	// Probed is set where scoring computes on the CPU after --device auto
	// looked for a GPU (as GRPO.Probed).
	Probed bool
}

// Estimate is what scoring one batch needs at its peak.
func (s Score) Estimate() Estimate {
	var e Estimate
	n := Positions(s.Batch, s.Tokens, 0, s.MicroBatchTokens)
	var fwd int64
	switch {
	case s.TeacherServed && s.StudentServed:
	case s.TeacherServed:
		fwd = Forward(s.Student, 1, n, n)
	case s.StudentServed:
		fwd = Forward(s.Teacher, 1, n, n)
	default:
		fwd = Forward(s.Teacher, 1, n, n) + head(s.Student, n)
	}
	if !s.TeacherServed {
		e.add(fmt.Sprintf("teacher (%v)", s.TeacherHeld), weights(s.Teacher, s.TeacherHeld))
	}
	if !s.StudentServed {
		e.add(fmt.Sprintf("student (%v)", s.StudentHeld), weights(s.Student, s.StudentHeld))
	}
	if fwd > 0 {
		e.add(fmt.Sprintf("forward of %d items × %d tokens, %d positions at a time", s.Batch, s.Tokens, n), int64(float64(fwd)*slack))
	}
	var held []model.Config
	if !s.TeacherServed {
		held = append(held, s.Teacher)
	}
	if !s.StudentServed {
		held = append(held, s.Student)
	}
	var rope int64
	for _, c := range held {
		rope += c.RoPEBytes()
	}
	if rope > 0 {
		e.add("rotary tables", rope)
	}
	if s.DeviceHead > 0 {
		e.add("the fused head's logits on the GPU", s.DeviceHead)
	}
	if s.DeviceScratch != nil && len(held) > 0 {
		// Scoring runs forwards only: no attention backward, gradients'
		// partials or the head's backward chunks.
		var runs []vulkan.Shapes
		for _, c := range held {
			runs = append(runs, shapesOf(n, s.Tokens, c))
		}
		if b := s.DeviceScratch(runs[0], runs[1:]...); b > 0 {
			e.add(scratchPart, b)
		}
	}
	e.driver(s.Probed)
	e.add("runtime", Runtime)
	return e
}

// Largest names the largest weight tensor scoring holds, as held.
func (s Score) Largest() Tensor {
	var hs []held
	if !s.TeacherServed {
		hs = append(hs, held{"the teacher's", s.Teacher, s.TeacherHeld})
	}
	if !s.StudentServed {
		hs = append(hs, held{"the student's", s.Student, s.StudentHeld})
	}
	return largest(hs...)
}

// Tensor is one tensor a device must hold in one buffer.
type Tensor struct {
	What  string // whose and which, as a message says it
	Bytes int64
}

// held is a model's weights held as dt, for largest.
type held struct {
	whose string
	cfg   model.Config
	dt    compute.DType
}

// largest is the biggest of the models' largest parameters as held.
func largest(hs ...held) Tensor {
	var t Tensor
	for _, h := range hs {
		name, n := h.cfg.LargestParam()
		if b := int64(n) * int64(h.dt.Size()); b > t.Bytes {
			t = Tensor{What: fmt.Sprintf("%s %s (%v)", h.whose, name, h.dt), Bytes: b}
		}
	}
	return t
}

// CheckBuffer refuses work on gpu whose largest weight tensor passes the
// bytes one allocation there may hold (maxBuffer; 0: no such limit), as
// the device would refuse it while loading: a tensor is one allocation
// (its kernels bind it a window at a time).
func CheckBuffer(what, gpu string, maxBuffer int64, t Tensor) error {
	if gpu == "" || maxBuffer <= 0 || t.Bytes <= maxBuffer {
		return nil
	}
	return &TooBigError{msg: fmt.Sprintf("%s on %s: %s is %s, and %s allocates at most %s at once (maxMemoryAllocationSize).\nTo fit, try:\n  - --device cpu: compute on the CPU, in the host's memory",
		what, gpu, t.What, size.Bytes(t.Bytes), gpu, size.Bytes(maxBuffer)), Need: t.Bytes, Have: maxBuffer}
}

// Fixes says what would make scoring need less.
func (s Score) Fixes() []string {
	var f []string
	if s.MicroBatchTokens <= 0 || s.MicroBatchTokens > s.Tokens {
		now := "no limit"
		if s.MicroBatchTokens > 0 {
			now = fmt.Sprint(s.MicroBatchTokens)
		}
		f = append(f, fmt.Sprintf("a smaller --micro-batch-tokens (now %s): the positions each forward holds", now))
	}
	f = append(f, fmt.Sprintf("a smaller --batch (now %d items scored together)", s.Batch))
	if (!s.TeacherServed && s.TeacherHeld == compute.F32) || (!s.StudentServed && s.StudentHeld == compute.F32) {
		if s.Stored16 {
			f = append(f, "--weights checkpoint: the 16-bit checkpoints in half the memory")
		} else {
			f = append(f, "BF16 checkpoints (held in 16 bits: half the memory)")
		}
	}
	return f
}

// Limit is the memory a command may use and where that figure comes from.
type Limit struct {
	Bytes  int64
	Source string
}

// EnvLimit names the environment variable that sets the limit by hand
// (bytes, or with a unit: 512MB, 2GiB), for tests and for sharing a
// machine or a GPU; the machine's own figures still apply when they are
// lower. It caps the memory a run computes in: the host's on the CPU, the
// GPU's on a GPU (OnDevice).
const EnvLimit = "RLT_MEMORY_LIMIT"

// CheckWhere is Check for work that computes on gpu (its name; "" for the
// CPU, in the host's memory) with gpuBytes of memory: on a GPU the limit is
// OnDevice's, and computing on the CPU is added to the fixes.
func CheckWhere(what, gpu string, gpuBytes int64, e Estimate, fixes []string) error {
	return checkWhere(what, gpu, gpuBytes, e, func(int64) []string { return fixes })
}

// CheckGRPO is CheckWhere for a GRPO run, its fixes those that can close
// the gap to the limit found (FixesWithin).
func CheckGRPO(what, gpu string, gpuBytes int64, g GRPO) error {
	return checkWhere(what, gpu, gpuBytes, g.Estimate(), g.FixesWithin)
}

// checkWhere is CheckWhere with the fixes made for the limit's bytes.
func checkWhere(what, gpu string, gpuBytes int64, e Estimate, fixes func(room int64) []string) error {
	if gpu == "" {
		l, ok, err := Available()
		if err != nil || !ok {
			return err
		}
		return CheckAgainst(what, e, l, fixes(l.Bytes))
	}
	l, err := OnDevice(gpu, gpuBytes)
	if err != nil {
		return err
	}
	return CheckAgainst(what+" on "+gpu, e, l, append(fixes(l.Bytes), "--device cpu: compute on the CPU, in the host's memory"))
}

// OnDevice is the memory a run on a GPU may use: the GPU's memory, or
// RLT_MEMORY_LIMIT when that is lower (to share a GPU, and for tests).
func OnDevice(gpu string, bytes int64) (Limit, error) {
	l := Limit{bytes, "the memory of " + gpu}
	if v := os.Getenv(EnvLimit); v != "" {
		b, err := size.Parse(v)
		if err != nil {
			return Limit{}, fmt.Errorf("%s=%q: %w", EnvLimit, v, err)
		}
		if b < l.Bytes {
			l = Limit{b, EnvLimit + ", on " + gpu}
		}
	}
	return l, nil
}

// Available reads what this process may use: /proc/meminfo's MemAvailable,
// the cgroup's memory.max less its memory.current where a limit is set, and
// RLT_MEMORY_LIMIT, whichever is least. ok is false when none is known.
func Available() (Limit, bool, error) {
	var best Limit
	found := false
	consider := func(b int64, src string) {
		if b >= 0 && (!found || b < best.Bytes) {
			best, found = Limit{b, src}, true
		}
	}
	if v := os.Getenv(EnvLimit); v != "" {
		b, err := size.Parse(v)
		if err != nil {
			return Limit{}, false, fmt.Errorf("%s=%q: %w", EnvLimit, v, err)
		}
		consider(b, EnvLimit)
	}
	if b, err := procBytes("/proc/meminfo", "MemAvailable"); err == nil {
		consider(b, "MemAvailable in /proc/meminfo")
	}
	if b, ok := cgroupRoom("/sys/fs/cgroup"); ok {
		consider(b, "the cgroup's memory.max less memory.current")
	}
	return best, found, nil
}

// Process reads this process's resident memory from /proc/self/status:
// now (VmRSS) and the most so far (VmHWM), for a run's memory metrics. ok
// is false where the file is not there (not Linux).
func Process() (rss, peak int64, ok bool) {
	const status = "/proc/self/status"
	if runtime.GOOS != "linux" { // Wine, for one, shows Windows programs the host's /proc
		return 0, 0, false
	}
	rss, err := procBytes(status, "VmRSS")
	if err != nil {
		return 0, 0, false
	}
	if peak, err = procBytes(status, "VmHWM"); err != nil {
		return 0, 0, false
	}
	return rss, peak, true
}

// procBytes reads the "key: N kB" line of a /proc file in bytes.
func procBytes(path, key string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("%s: %s: %w", path, key, err)
				}
				return kb << 10, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: no %s line", path, key)
}

func cgroupRoom(dir string) (int64, bool) {
	maxData, err := os.ReadFile(filepath.Join(dir, "memory.max"))
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(maxData))
	if s == "max" {
		return 0, false
	}
	limit, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	var used int64
	if cur, err := os.ReadFile(filepath.Join(dir, "memory.current")); err == nil {
		used, _ = strconv.ParseInt(strings.TrimSpace(string(cur)), 10, 64)
	}
	return max(0, limit-used), true
}

// Check refuses what cannot fit: what names the command, fixes say what
// would make it need less.
func Check(what string, e Estimate, fixes []string) error {
	l, ok, err := Available()
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	return CheckAgainst(what, e, l, fixes)
}

// CheckAgainst is Check with a given limit.
func CheckAgainst(what string, e Estimate, l Limit, fixes []string) error {
	if e.Total() <= l.Bytes {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s needs %s, more than the %s available (%s).", what, e, size.Bytes(l.Bytes), l.Source)
	if len(fixes) > 0 { // rlt logprobs on the CPU, of a float32 checkpoint, has none to offer
		b.WriteString("\nTo fit, try:")
	}
	for _, f := range fixes {
		b.WriteString("\n  - " + f)
	}
	return &TooBigError{msg: b.String(), Need: e.Total(), Have: l.Bytes}
}

// TooBigError is Check's refusal.
type TooBigError struct {
	msg        string
	Need, Have int64
}

func (e *TooBigError) Error() string { return e.msg }

// Models describes, for its estimate, a command other than a GRPO run or
// rlt score that loads models where --device chooses (rlt generate,
// logprobs, serve, eval, distill): each model it holds and the passes it
// runs that model through. Its refusal is CheckWhere's, in a GRPO run's
// and scoring's words.
type Models struct {
	Uses []Use
	// DeviceHead is, on a GPU, the fused head's logits buffer there (as
	// GRPO.DeviceHead), counted where a pass runs the head (a forward's
	// log-probs, a training; sampling does not); 0 on the CPU.
	DeviceHead int64
	// DeviceScratch is, on a GPU, its ops' scratch bound (as
	// GRPO.DeviceScratch): asked once for every model's every pass, so
	// that each slot is the most any of them takes (vulkan.ScratchBytes'
	// rule); nil or 0 on the CPU.
	DeviceScratch func(first vulkan.Shapes, more ...vulkan.Shapes) int64
	// Probed is set where the command computes on the CPU after --device
	// auto looked for a GPU (as GRPO.Probed).
	Probed bool
	// OnGPU is set where the command computes on a GPU (as GRPO.OnGPU):
	// no sampled model's matrices are packed again.
	OnGPU bool
	// OneTape is set where the sampling uses take turns on one tape
	// (run.EvalTeacherResults: the teacher explains, then the student
	// answers from it), each sampler keeping its caches while the next
	// samples: the tape's arena holds the larger prefill, counted once.
	// Each use's prefill was added, as if each had a tape of its own:
	// rlt pretrain's teacher check counted 19.5 MiB it never holds.
	// While one sampler's cache grows (cacheGrowth) the others hold what
	// they kept: those before it, and after a first batch all of them
	// (Batches: how many batches they take turns over).
	OneTape bool
	Batches int
}

// Use is one model a command holds, as it holds it, and what it runs it
// through; a pass whose count is 0 is not run.
type Use struct {
	Name string // "teacher", "student", "model": the estimate's lines and Largest say it
	Cfg  model.Config
	Held compute.DType
	// SampleSeqs sequences of up to SampleT tokens are sampled at once
	// (SamplingAfter's KV cache, prefill and logits), after prompts of up
	// to SamplePrompt tokens (what the prefill holds; 0: PromptTokens
	// assumed, where the command knows none). It was PromptTokens for
	// every command: rlt generate's prompt of 2,000 tokens was prefilled
	// as 128 in the estimate.
	SampleSeqs, SampleT, SamplePrompt int
	// ForwardRows positions of sequences of up to ForwardT tokens go
	// through one no-grad forward at once, log-probs taken at each.
	ForwardRows, ForwardT int
	// TrainRows positions of sequences of up to TrainT tokens go through
	// one recorded forward and its backward at once (a micro-batch), and
	// the model trains in float32 with AdamW: its gradients and two
	// moments beside its weights.
	TrainRows, TrainT int
}

// Estimate is what the command needs at its peak: every model's weights
// (and a trained one's gradients and moments) together, and each pass's
// activations added, as GRPO.Estimate adds its phases' (a bound).
func (m Models) Estimate() Estimate {
	var e Estimate
	for _, u := range m.Uses {
		e.add(fmt.Sprintf("%s weights (%v)", u.Name, u.Held), weights(u.Cfg, u.Held))
		if u.TrainRows > 0 {
			e.add(u.Name+"'s gradients and AdamW moments", 3*weights(u.Cfg, compute.F32))
		}
		if u.SampleSeqs > 0 {
			e.packed(!m.OnGPU, "the "+u.Name+"'s", u.Cfg, u.Held)
		}
	}
	var runs []vulkan.Shapes
	var prefill int64 // the larger prefill, where the samplers share one tape
	prefillOf := ""
	// Where they take turns: what the samplers before keep, and the most
	// at one's turn.
	var kept, growth int64
	growthOf := ""
	for _, u := range m.Uses {
		if u.SampleSeqs > 0 {
			t := min(u.SampleT, u.Cfg.MaxPos)
			seqs := fmt.Sprintf("%d sequences", u.SampleSeqs)
			if u.SampleSeqs == 1 {
				seqs = "one sequence"
			}
			prompt := u.SamplePrompt
			if prompt <= 0 {
				prompt = PromptTokens
			}
			prompt = min(prompt, t)
			if m.OneTape {
				kv, growing := samplingKV(u.Cfg, u.SampleSeqs, prompt, t, max(u.SampleT-prompt, 1))
				logits := 2 * 4 * int64(u.SampleSeqs) * int64(u.Cfg.Vocab)
				e.add(fmt.Sprintf("%s sampling %s of %d tokens (KV cache, logits)", u.Name, seqs, t), kv+logits)
				// This sampler's turn: what the others kept, its own
				// cache growing where that is more than it keeps.
				turn := kept + max(kv, growing) + logits
				if m.Batches > 1 {
					turn = max(turn, keptAll(m.Uses)-kv-logits+max(kv, growing)+logits)
				}
				if turn > growth {
					growth, growthOf = turn, u.Name
				}
				kept += kv + logits
				if p := prefillBytes(u.Cfg, u.SampleSeqs, prompt); p > prefill {
					prefill, prefillOf = p, u.Name
				}
			} else {
				kv, growing := samplingKV(u.Cfg, u.SampleSeqs, prompt, t, max(u.SampleT-prompt, 1))
				e.add(fmt.Sprintf("%s sampling %s of %d tokens (KV cache, logits)", u.Name, seqs, t),
					max(kv, growing)+prefillBytes(u.Cfg, u.SampleSeqs, prompt)+2*4*int64(u.SampleSeqs)*int64(u.Cfg.Vocab))
			}
			prefill := min(u.SampleSeqs*prompt, max(u.SampleSeqs, sample.PrefillTokens))
			s := shapesOf(prefill, t, u.Cfg)
			s.Draws, s.Candidates = u.SampleSeqs, sample.ShortlistCapacity
			runs = append(runs, s)
		}
		if u.ForwardRows > 0 {
			t := min(u.ForwardT, u.Cfg.MaxPos)
			e.add(fmt.Sprintf("%s forward, %d positions at a time", u.Name, u.ForwardRows),
				int64(float64(Forward(u.Cfg, 1, u.ForwardRows, u.ForwardRows))*slack))
			runs = append(runs, shapesOf(u.ForwardRows, t, u.Cfg))
		}
		if u.TrainRows > 0 {
			t := min(u.TrainT, u.Cfg.MaxPos)
			e.add(fmt.Sprintf("%s forward and backward, micro-batch of %d positions", u.Name, u.TrainRows),
				int64(float64(Backward(u.Cfg, 1, u.TrainRows, false))*slack))
			s := shapesOf(u.TrainRows, t, u.Cfg)
			s.Params, s.Tensors, s.Backward = u.Cfg.NumParams(), u.Cfg.NumTensors(), true
			runs = append(runs, s)
		}
	}
	if growth > kept {
		e.add(fmt.Sprintf("the %s's cache growing, its longer copy made beside it, while the others hold what they kept", growthOf), growth-kept)
	}
	if prefill > 0 {
		e.add(fmt.Sprintf("the prefill on the tape the samplers share (the %s's, the larger)", prefillOf), prefill)
	}
	var rope int64
	for _, u := range m.Uses {
		rope += u.Cfg.RoPEBytes()
	}
	if rope > 0 {
		e.add("rotary tables", rope)
	}
	// The fused head runs in the forwards that take log-probs and in
	// training, not in sampling, whose logits are a plain product's,
	// [seqs, vocab] a step (Sampling's): rlt generate and rlt eval, which
	// only sample, counted 1.5× its budget (48 MiB on lavapipe, 1.5 GiB on
	// an H200) for buffers they never make.
	if m.DeviceHead > 0 && m.runsHead() {
		e.add("the fused head's logits on the GPU", m.DeviceHead)
	}
	if m.DeviceScratch != nil && len(runs) > 0 {
		if b := m.DeviceScratch(runs[0], runs[1:]...); b > 0 {
			e.add(scratchPart, b)
		}
	}
	e.driver(m.Probed)
	e.add("runtime", Runtime)
	return e
}

// keptAll is what every sampling use of uses keeps once it has sampled
// (samplingKV's kept, and its logits).
func keptAll(uses []Use) int64 {
	var n int64
	for _, u := range uses {
		if u.SampleSeqs > 0 {
			t := min(u.SampleT, u.Cfg.MaxPos)
			prompt := u.SamplePrompt
			if prompt <= 0 {
				prompt = PromptTokens
			}
			kv, _ := samplingKV(u.Cfg, u.SampleSeqs, min(prompt, t), t, 0)
			n += kv + 2*4*int64(u.SampleSeqs)*int64(u.Cfg.Vocab)
		}
	}
	return n
}

// runsHead says whether some pass of m runs the fused LM head: a
// forward's log-probs or a training's.
func (m Models) runsHead() bool {
	for _, u := range m.Uses {
		if u.ForwardRows > 0 || u.TrainRows > 0 {
			return true
		}
	}
	return false
}

// Largest names the largest weight tensor the command holds, as held: a
// trained model's in float32.
func (m Models) Largest() Tensor {
	var hs []held
	for _, u := range m.Uses {
		hs = append(hs, held{"the " + u.Name + "'s", u.Cfg, u.Held})
	}
	return largest(hs...)
}
