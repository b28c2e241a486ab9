// Package sessions keeps runs on disk: resolved configuration, metrics, traces,
// checkpoints, review labels, and the import and live following of run folders
// written by other processes. It is the store the UI reads.
package sessions
