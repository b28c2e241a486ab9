// Package record is the RLT record: what a scored explanation is, in words
// and numbers, without any model. It holds the tags and their checker, the
// teacher and student prompts and their layouts (RLT.md §2), explanation
// extraction, the reward's configuration and its pure reductions over
// per-token arrays (§3), the one scored-explanation type (Scored), and the
// one reader and writer of data rows, flat or Bespoke-Stratos (§5).
//
// It imports the standard library and engine's leaves that link no model
// or kernel (chatml for the prompts' turns, jsonerr, durable, shell,
// configkey, and hf for its file checks), so the run folder (sessions) and
// the viewer (ui) can use it without linking a model; engine/rlt computes
// the per-token log-probs with the models and fills a Scored.
package record
