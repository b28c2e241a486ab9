// Package task holds the tasks and data of RLT runs: synthetic tasks small
// enough for the embedded tiny teacher and student, their answer checkers
// and step-by-step explanation verifiers, explanation styles for warm-start
// corpora, and user data in JSON Lines (RLT rows and Bespoke-Stratos rows).
//
// # Tasks
//
// A Task samples examples (question, solution, reference explanation) from a
// random source; Sampler makes that deterministic for a seed and restricts it
// to one split. Splits are decided by hashing the task name and the
// question's canonical split key (SplitOf), so train and held-out never
// share a question whatever the seed, and a+b and b+a count as one question.
// Widest is the example whose numbers have the most digits the task's
// ranges allow ("9999+9999=?"), so that a run can check, before its first
// step, that every question any step draws has a prompt that fits the
// models.
//
// Both tasks write explanations in one grammar, made for a byte-level model
// with a 256-token context: steps "A op B=C" separated by "; ", closed by
// "ans N". RLT (RLT.md §1) gives the teacher the solution, so an explanation
// ending with the derived answer is fine; stating it before the derivation is
// the leak that the KL term of the reward guards against, and Verdict counts
// it (AnswerFirst, Leaks).
//
// Addition ("347+285=?" → "632"), one step per column, least significant
// first; "+1" is the carry in (shown only when 1), wD the written digit, cK
// the carry out; an operand without a digit in a column contributes 0:
//
//	7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632
//
// Linear equations ("3x+5=20, x=?" → "5"): undo the constant, then divide:
//
//	20-5=15; 15/3=5; ans 5
//
// # Why linear equations and not Countdown for transfer
//
// The paper shows zero-shot transfer of a math teacher to Countdown. For the
// tiny models here, linear equations share far more with addition: the same
// step grammar ("A op B=C" segments, "; " separators, the "ans N" close), a
// single integer answer that exact match can check, one canonical derivation
// of fixed length, and the same leak shape ("ans 5; …"). A Countdown
// explanation is a search over expressions with dead ends, its answer is an
// expression with many correct forms (it needs an evaluator, not exact
// match), and nothing in a column addition prepares a teacher for it. Zero-
// shot transfer of an addition teacher to linear equations is plausible:
// it already writes correct arithmetic steps in order and must only learn
// which two steps to take.
//
// # Styles
//
// Each task offers five styles of explanation, of decreasing teaching value
// for a student, so that a teacher warm-started on a Mixture of them has room
// to improve under RL: clean (the reference), reordered, padded, leaked and
// partial; WarmStart draws a train-split corpus from a Mixture of them
// (DefaultMixture: half clean). The verifier scores each sensibly: clean is
// complete and in order, reordered is complete and out of order (or with
// late carries), padded has filler, leaked has AnswerFirst, partial has
// missing steps. It cuts explanations into segments at ';', '.', ',' and
// newlines, so steps must be separated; a segment that is not a step or an
// answer statement is filler, and a filler mentioning the answer before the
// last step (outside a restatement of the question) is a leak.
//
// # User data
//
// ReadJSONL reads RLT rows ({"question" or "prompt", "solution",
// "reasoning_trace"}) and Bespoke-Stratos rows ({"system", "conversations"})
// and reports every skipped row with its line number and reason; rows whose
// text carries a reserved tag (record.ContainsTag) are rejected, since they would
// corrupt the prompt formats. StratosWriter writes distillation rows.
//
// ReadFile reads a data file for a run: rows whose question is a synthetic
// task's (Detect) keep that task's checker and verifier (Example.Task), and
// are skipped if their solution is not the task's answer; other rows are
// checked by exact match (CheckSolution). Errors name the file (missing,
// empty, one JSON document instead of JSON Lines, no usable row). HoldOut
// sets a fraction of the distinct questions (QuestionKey) aside for
// evaluation by a hash of the question alone, and Distinct orders
// evaluation questions the same way.
package task
