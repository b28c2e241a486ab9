//go:build !windows

package durable

import "os"

// Rename moves from to to, replacing to.
func Rename(from, to string) error { return os.Rename(from, to) }

// OpenForSync opens a file to fsync and read back; fsync needs no write
// access on Unix.
func OpenForSync(path string) (*os.File, error) { return os.Open(path) }
