// Package sessions keeps runs on disk: resolved configuration, metrics, traces,
// checkpoints, review labels, re-scores and exports, and the import and live
// following of run folders written by other processes (OpenOfficial); it also
// reads TOML configurations strictly and places their errors on their lines.
// It is the only writer of a run folder's files (the engine hands a
// checkpoint over as tensors and state; sessions/runner, the application
// layer, connects the two) and the store the UI reads. Session and
// Controller are what the workbench is handed for an open run.
//
// # Run folder
//
//	<run>/
//	  config.toml            resolved configuration, written once by Create (atomically), read strictly by Open
//	  run.lock               writer lock (flock) holding the owner's pid, rewritten whole (a new file,
//	                           locked, renamed over it, the old one's mode and owner kept: replaceLock);
//	                           where missing, made locked under a temporary name and linked into
//	                           place (makeLocked; O_EXCL on Windows);
//	                           emptied on a clean Close, once the close event is on disk
//	  metrics.jsonl          one line per optimisation step, and one more for a step that ran the
//	                           held-out evaluation (its own keys):
//	                           {"step":12,"time":"…","values":{"kl":0.01,"reward":-0.93,…}}
//	                           (keys sorted; NaN and ±Inf written as "NaN", "+Inf", "-Inf")
//	  events.jsonl           phases, checkpoints, errors, the device, and session events (create,
//	                           open, resume, close, dropped, import, skipped, rescore, plan, lost):
//	                           {"time","kind","step","name","extra","dir","error","fatal","severity",
//	                           "fault","count","file","line","column","seg","device","pid","intent","words"}
//	                           (EventRecord); an error event's severity is "error" or
//	                           "warning" (folders written before it existed mark a warning by starting
//	                           its error with "warning: ", and read so), its fault "device" (the run's
//	                           device failed: the way on is --device cpu) or "other" (folders written
//	                           before it existed say a device's failure by event.ResumeOnCPU's words)
//	  traces/NNNNNN.jsonl    the sampled traces of step NNNNNN (six digits or more), one per line:
//	                           id, step, group, sample, time, question, solution, completion,
//	                           explanation, reconstruction, advantage, [source, source_reward],
//	                           ended, terms{…record.Terms}, and record.Tokens's per-token arrays:
//	                           expl_ids, expl_tokens, teacher_lp, student_lp, d, sol_ids, sol_tokens, sol_lp;
//	                           the float arrays are base64 of little-endian float32 (an array of
//	                           numbers is accepted on reading); a completion, explanation or
//	                           reconstruction that is not valid UTF-8 (text cut inside a character)
//	                           is followed by its bytes as base64 (completion_bytes, …), which a
//	                           reader takes over the text's U+FFFD
//	  reviews.jsonl          append-only review log: {"time","trace","label","note"} with label
//	                           accept | reject | flag | undo; a trace's label is the fold of its records
//	                           (each undo cancels the latest label in force); traces are never modified
//	  rescores.jsonl         append-only re-scorings (rlt score --run --write): {"time","trace",
//	                           "teacher","student","reward_config","ended","terms", and the per-token
//	                           arrays under the trace files' names}; a trace's rescore is its latest record
//	  checkpoints/
//	    step-NNNNNN/         written in checkpoints/.tmp-step-NNNNNN-* and renamed when complete; one
//	                           it replaces is first moved to .old-step-NNNNNN-*, which Open puts back
//	                           if the save did not finish (and the listing and ResumeCommand count as
//	                           that step's checkpoint meanwhile: checkpointFolderList)
//	      teacher/           the policy as a Hugging Face folder (config.json, model.safetensors,
//	                           tokenizer.json)
//	      reference/         the KL reference model, likewise
//	      optimizer.safetensors  the AdamW moments of every teacher parameter, "<name>.exp_avg" and
//	                           "<name>.exp_avg_sq", as float32 tensors; metadata "adam_steps"
//	      trainer.json       the trainer's state: {"step","adam_steps","seed","data_sha256","each_question_once"}
//	                           (sampling seeds and the data order are functions of the step, so
//	                           nothing else is needed to resume)
//	      state.json         CheckpointState: step, time, seg, mean_reward, and the manifest of
//	                           every other file with its size and SHA-256 ("sha256", absent in
//	                           checkpoints of older versions); written last. A checkpoint holds
//	                           only finite tensors (SaveCheckpoint refuses others)
//	  progress.json          where the engine is within its step, while a session trains the run
//	                           (ProgressRecord: seg, pid, time, started, step, phase, done, total,
//	                           unit), replaced at most once per ProgressEvery, not synced; removed
//	                           when the session closes, and by the next one after a crash
//	  export-accepted.jsonl  the workbench's export of the accepted traces (ExportAccepted),
//	                           Bespoke-Stratos rows, replaced atomically
//
// Every JSON Lines file is append-only and written one whole line per write;
// a partial last line left by a crash is removed (and reported) by Open, and
// skipped by readers. Broken lines are skipped and reported with file and line.
//
// A Run opened for writing (Create, Open) holds run.lock and is an
// event.Sink: Emit puts each event into the in-memory Store at once and queues
// it for a background writer that appends in batches (one write per file per
// batch) and fsyncs at most once per Options.SyncInterval, so the engine never
// waits on the disk and the UI never waits on the engine. OpenReadOnly needs
// no lock and follows the files of a run another process writes (Follower),
// feeding the same Store. The UI pulls with cursors (MetricsSince,
// TracesSince) when Store.Changed signals.
//
// The Store holds a trace's texts and per-token arrays only until the trace
// is in its file (most of a run's bytes are those): it keeps a listing
// record (TraceRecord) of the trace's scores, the arrays' lengths and the
// starts of its question and explanation (TextPreview, what a list shows),
// and the run's histogram of |d_k| (record.DHistogram, the viewer's colour
// scale), so that what it holds of a trace does not grow with its texts.
// Store.Trace reads one trace whole back from its line of its file when a
// viewer shows it (at the byte offset the store noted, or by the trace's ID
// where the line moved); a TraceReader reads many, as an export, a scoring
// or a report does, each file once. A rescore's arrays likewise stay in
// rescores.jsonl: Store.Rescore gives its scores, Store.ReadRescore the
// arrays.
//
// SaveCheckpoint first waits until every record emitted so far is written
// and fsynced, so a checkpoint of step N never exists without the records
// of step N: a run killed at any moment and resumed from its latest
// checkpoint loses at most the step in progress, and has every step's
// records exactly once. When the disk fails (full, I/O error) the writer
// keeps the records queued and retries every second; Err reports it, and
// the checkpoint fails with it, so a driver that stops on a failed
// checkpoint stops the run. A failed append is truncated back, so the
// folder stays readable.
//
// A run opened with OpenReadOnly refuses every write with an error naming
// the run: Review, Undo, SaveCheckpoint, Resume and AppendRescores return
// it; Emit, which cannot return an error, records the refusal once in
// Store.Issues.
//
// # Import and re-scoring
//
// Import turns a trainer's run folder — the official RLT trainer's
// (trainer_state.json, stored_completions/*.csv), TRL GRPOTrainer's
// (checkpoint-N/trainer_state.json, completions/*.parquet), verl's (file
// logger JSON Lines, rollout {step}.jsonl) or NeMo-RL's
// (train_data_step{N}.jsonl, TensorBoard events), see trainers.go — or a
// JSON Lines traces file into a run folder of this layout: config.toml holds ImportConfig ([import] format, source,
// files, time, counts, planned_steps where the trainer's files state
// how many steps the run takes: the Hugging Face Trainer's max_steps, and
// student_system where a traces file's Bespoke-Stratos rows all carry one
// system prompt, not empty, which the run's export gives its rows and rlt score
// --run scores them with (RowsPrompts; without it, the default student
// prompt, for both), and reward where
// a traces file's rows all record the reward_config they were ranked
// with, which rlt score --run scores with);
// metrics.jsonl one record per log_history step,
// under the trainer's own step number (which counts the steps done, from
// 1, where ours count from 0: StepNumbering);
// traces the rows, each with "source" (file:line in the source) and
// "source_reward" (the reward the source recorded, which is not one of our
// scores: "terms" stays absent); events.jsonl an "import" event, notes, and
// one "skipped" event per row left out with its "file" and "line" (a
// row or file still being written is one, until it is complete). The
// source is only read. Imported traces are reviewed, re-scored and
// exported like any others. OpenTrainerRun follows such a folder live:
// its copy's steps read when it opens carry no time (when the trainer did
// them is in none of its files), later steps the time they were seen; a
// "plan" event records a planned total that comes or changes later, and
// the copy is done only once its planned steps are.
//
// Re-scoring (rlt score --run DIR --write) never rewrites a trace: reviews
// and exports refer to traces by ID, and a trace line, once written, is the
// record of what was sampled. The engine's new per-token arrays go to the
// side file rescores.jsonl, one record per trace keyed by its ID (a later
// record for the same trace supersedes an earlier one; Store.Rescore returns
// the latest), with the scorer's model folders and reward coefficients.
// Writing them as new traces of a new step was rejected: the same text would
// appear twice, with two IDs and two review states.
//
// Each session that writes a run is a segment: 0 for Create, one more per
// Open; records carry "seg" when it is not 0. Resume(step) records that the
// session continues after a checkpoint of step, so records of earlier
// segments beyond step are superseded and left out when the run is loaded.
// Where events.jsonl lost a resume event (a segment's records re-do steps
// an earlier one's hold, and no resume of it is recorded), the point is
// read from the records: the segment resumed after the step before its
// first record (resumePoints.lostResumes), and the problems view says so.
package sessions
