// Package ui is the Bubble Tea workbench: screens, charts, heatmaps, key maps
// and styles. It reads a session's live store and never blocks the engine.
//
// # Screens
//
// A thin root model (Model) holds the sizes, the global keys (keys.Global:
// tab and shift+tab cycle the screens, 1–3 go to a run's screens, 4 to the
// Runs screen, ? shows the keys of the screen, ! the problems, q quits), the
// status line, the help and problems overlays, and one run's screens:
//
//	1 Dashboard  live curves of the run's metrics, smoothed (EMA) over the
//	             faint raw series, reward with a ±reward_std band; m picks
//	             charts among every recorded metric; run controls (pause,
//	             stop, checkpoint)
//	2 Traces     the sampled traces: sort, filter, a question/explanation
//	             preview column; group view (v) with the group's reward mean
//	             and std, zero-variance groups marked, [ and ] to move
//	3 Detail     one trace: its question, reference solution and the task
//	             verifier's verdict; explanation heatmap, solution
//	             log-probs, diff, review
//	4 Runs       run folders and followed folders; open, resume, start runs;
//	             space marks runs to compare with the open one
//
// # Runs side by side
//
// Runs marked with space on the Runs screen are overlaid on the open run's
// dashboard (C there shows the open run alone and back): one chart per
// metric, a line per run in the colour style.RunColors gives it (kept while
// other runs are marked and unmarked, and the rule rlt report uses), and
// the mean ± population std of the runs' values, bold and faint, at every
// step two or more of them record (chart.SetMeanBand; runs of different
// lengths, or lacking a metric, join where they have values). One legend
// line names the runs, with λ (the r_KL coefficient of each config.toml;
// of an import, its rows' where it records their reward: "rows' λ=3",
// sessions.Settings.ShownReward) when they differ. n and N select a run, space takes it out of the charts
// and the band; smoothing, zoom, the chart picker and e work as on the open
// run (e writes a CSV column per run and the mean, std and count). Compared
// runs are opened read-only through sessions with only their metrics and
// events (sessions.Options.MetricsOnly), followed by their stores (a stat
// a second, a read only when a file grew) and pulled on the UI's tick; the
// open run comes in live as ever. The comparison outlives the open run:
// opening another keeps the marked runs.
//
// # Colours
//
// The Detail screen colours every trace of a run on one scale, so that the
// same d_k has the same colour in any two traces: the run's scale is the
// 99th percentile of |d_k| over every trace the run's store holds (its
// record.DHistogram), rounded up to a log-spaced step and at least 0.5
// (heatmap.DLimit, which the HTML report shares), and log-probs use an
// absolute scale (0 to −5 nats). z switches to per-trace scales. A legend
// line says which scale is in force, what red and blue mean, and the λ
// and α of r_KL from the run's config.toml (sessions.Run.Settings) or the
// rescore's coefficients; where the screen has a row to spare, a line
// under it gives r_SS's formula (c1·mean + c2·min of the solution's ℓS)
// with the same source's c1 and c2. n (next unreviewed) follows the Traces list's
// current sort and filters.
//
// # Run state
//
// The status line says the run's true state from its events: running with
// the step's phase (sampling, scoring, …; "starting" before the first),
// paused, stopping (S confirmed, the step in progress finishing), stopped,
// done or failed; steps per minute only while the engine runs. After the
// engine has stopped p, S and c say so, and r on the Runs screen resumes
// the run in place. The Runs screen and `rlt sessions` list a run that a
// workbench keeps open with no engine running by its training state, not
// as running (sessions.List); r there refuses a run another process holds
// (trains, loads to resume, reviews or writes re-scores into:
// sessions.Holder), saying who and why, and the view stays as it was. A
// run whose run.lock cannot be probed while its events leave a training
// session open reads unknown in the status line and the Runs screen
// (sessions.StateUnknown), with no pace: r there is refused before
// anything is closed, saying why and what to do (as r on any run whose
// run.lock cannot be taken: sessions.LockUnknownError), and enter reads
// it again read-only.
//
// # Rescores
//
// `rlt score --run DIR --write` stores the engine's re-scoring of a run's
// traces beside them, in rescores.jsonl (sessions.Store.Rescore: the latest
// record of a trace; traces are never rewritten). A trace without scores
// of its own (an imported one) shows its rescore in the Detail screen
// exactly as a trace of ours: the d_k heatmap, the token cursor with ℓT,
// ℓS and d_k, the solution log-probs and the reward breakdown, under a
// line saying they come from a re-scoring (when, the scorer's teacher and
// student, folders or inference servers' hosts, the reward coefficients
// with the temperature the log-probs are at, flagged when it is not the
// run's: a vLLM or SGLang server's prompt log-probs are of the raw
// logits, τ 1), with the trace's source file:line and
// the reward its source recorded. A trace with both (ours, re-scored with
// other coefficients) shows its own, and s switches to the rescore and
// back. In the Traces list a trace with no reward of its own sorts and
// filters by its rescore's reward, marked * (the legend under the list and
// the help page say so). A rescore written while the run is open, by
// another process too (a read-only run follows rescores.jsonl like its
// other files), reaches the open detail and the list.
//
// # Runs
//
// The Runs screen lists the run folders under Options.RunsDir (state, last
// step, best reward, size, creation time, from sessions.List) and folders
// the user follows: a run folder another process writes, a folder of run
// folders, or an official RLT trainer's run folder. enter opens the selected
// run read-only, r resumes it from its latest checkpoint, n edits a new
// run's configuration (c starts from the selected run's) in a small editor;
// ctrl+s checks it (errors are shown under the lines they name), saves it as
// the new run's config.toml and starts the run. The followed folders are
// kept in <RunsDir>/.followed.json (FollowedFile, written atomically, as
// absolute paths); a corrupt file is reported on the Runs screen and
// ignored.
//
// # Problems
//
// A run folder with broken parts opens with the rest usable. The problems
// overlay (!) lists everything wrong with the open run, errors first, each
// with its file and line relative to the run folder and what it means for
// the views: what the launcher found opening it (Session.Problems, e.g. a
// config.toml that does not decode strictly), the store's issues (broken
// records skipped, partial lines repaired, checkpoints passed over, failed
// writes), the engine's errors (a fatal one marks the run failed in the
// status line), warnings (error events whose Severity is
// event.SeverityWarning: data rows the engine skipped), rows an import left out, traces dropped, and
// traces whose per-token arrays do not match their tokens (marked in the
// Traces list; their detail says which array is short; enter on the
// problem opens the trace). The status line counts the problems.
//
// Starting, resuming and opening go through a Launcher, which the rlt
// command implements with the engine (sessions/runner, wired in by main):
// ui never builds an engine and imports no engine package for it. A
// Launcher returns a sessions.Session: the run's record, the engine's
// controls when one drives it (a sessions.Controller), and Close, which
// stops the engine after its step in progress, writes the final checkpoint
// and closes the run folder. The run shown first is handed over the same
// way, as Options.Session (nil: the workbench opens on the Runs screen).
//
// The workbench shows one run at a time and keeps none running in the
// background: opening another run ends the current Session first (asking
// first while its engine is still stepping), off the event loop, and only
// then launches the next, so a run just stopped can be resumed at once and
// two engines never share the cores. Quitting ends the open Session too
// (on screen, while its engine finishes its step). A run open read-only
// (Session.ReadOnly, or a sessions.Run opened with OpenReadOnly) refuses
// review and export, and the review keys say so; e in its dashboard writes
// the chart to charts/ in the current folder rather than into the run, and
// says where.
//
// Options.Mouse turns on mouse reporting: the wheel scrolls the run and
// trace lists and the editor. It is off by default, as it takes the
// terminal's own text selection away.
//
// Every view fits its width and height; below MinWidth×MinHeight the
// workbench shows one line saying so. Colours come from the style.Theme
// (NO_COLOR gives attributes only; tests use the plain theme).
package ui
