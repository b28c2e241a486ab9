//go:build !windows

package sessions

import "os"

// rename moves from to to, replacing to.
func rename(from, to string) error { return os.Rename(from, to) }

// openForSync opens a file to fsync and read back; fsync needs no write
// access on Unix.
func openForSync(path string) (*os.File, error) { return os.Open(path) }
