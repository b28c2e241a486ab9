package sessions

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFileAtomic replaces the file at path with data so that a reader (or a
// crash) sees either the old content or the new one, never a mixture.
//
// It writes a temporary file in the same directory, fsyncs it, renames it over
// path and fsyncs the directory. On any error the previous file at path is left
// untouched and the temporary file is removed. perm applies to the new file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for streaming writers: write is handed the
// temporary file and its error aborts the replacement (the old file stays, the
// temporary file is removed, and the error is returned wrapped with the path).
func WriteAtomic(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close() // may already be closed; the error is irrelevant then
			os.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err = rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The new content is in place; a failed directory sync only weakens
	// durability of the rename, so it is reported but the temp file is gone.
	if serr := syncDir(dir); serr != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, serr)
	}
	return nil
}

// syncDir fsyncs a directory so that a rename or create inside it is durable.
// Windows has no directory fsync (FlushFileBuffers refuses a directory's
// handle); NTFS journals the rename itself, so there is nothing to do.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
