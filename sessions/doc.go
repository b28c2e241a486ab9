// Package sessions keeps runs on disk: resolved configuration, metrics, traces,
// checkpoints, review labels, and the import and live following of run folders
// written by other processes. It is the store the UI reads.
//
// # Run folder
//
//	<run>/
//	  config.toml            resolved configuration, written once by Create (atomically), read strictly by Open
//	  run.lock               writer lock (flock) holding the owner's pid; emptied on a clean Close
//	  metrics.jsonl          one line per optimisation step:
//	                           {"step":12,"time":"…","values":{"kl":0.01,"reward":-0.93,…}}
//	                           (keys sorted; NaN and ±Inf written as "NaN", "+Inf", "-Inf")
//	  events.jsonl           phases, checkpoints, errors, and session events (create, open,
//	                           resume, close, dropped): {"time","kind","step","name","dir","error","fatal","seg"}
//	  traces/NNNNNN.jsonl    the sampled traces of step NNNNNN (six digits or more), one per line:
//	                           id, step, group, sample, time, question, solution, completion,
//	                           explanation, reconstruction, advantage, ended, terms{…rlt.Terms},
//	                           expl_ids, expl_tokens, teacher_lp, student_lp, d, sol_ids, sol_tokens, sol_lp;
//	                           the float arrays are base64 of little-endian float32 (an array of
//	                           numbers is accepted on reading)
//	  reviews.jsonl          append-only review log: {"time","trace","label","note"} with label
//	                           accept | reject | flag | undo; a trace's label is the fold of its records
//	                           (each undo cancels the latest label in force); traces are never modified
//	  checkpoints/
//	    step-NNNNNN/         written in checkpoints/.tmp-step-NNNNNN-* and renamed when complete
//	      teacher/           the policy as a Hugging Face folder (config.json, model.safetensors)
//	      optimizer.safetensors  AdamW moments as float32 tensors (WriteTensors / ReadTensors)
//	      rng.json           sampler state
//	      state.json         CheckpointState: step, mean reward, manifest of files with sizes, extra
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
// Each session that writes a run is a segment: 0 for Create, one more per
// Open; records carry "seg" when it is not 0. Resume(step) records that the
// session continues after a checkpoint of step, so records of earlier
// segments beyond step are superseded and left out when the run is loaded.
package sessions
