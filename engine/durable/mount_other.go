//go:build !unix

package durable

import "errors"

// mountPoint cannot tell here: no device numbers in os.FileInfo (Windows
// mounts a volume on a folder as a reparse point, which is not looked
// for). Callers skip the check; the rename says any refusal.
func mountPoint(path string) (bool, error) { return false, errors.ErrUnsupported }
