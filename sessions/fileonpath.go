package sessions

import (
	"os"
	"path/filepath"
)

// FileOnPath is what stands in the way of a folder at path: path itself
// or the nearest folder above it that is there, where that is no folder
// (a file); "" where it is a folder, or nothing on the way is there. A
// look that fails otherwise (a link that loops, no permission) goes up
// to the next: the write that makes the folder says it. One rule for
// every place that says a file in a folder's way (rlt --runs, rlt report
// --out, the Runs screen's runs folder), in the same words.
func FileOnPath(path string) string {
	for at := filepath.Clean(path); ; {
		if fi, err := os.Stat(at); err == nil {
			if fi.IsDir() {
				return ""
			}
			return at
		}
		up := filepath.Dir(at)
		if up == at {
			return ""
		}
		at = up
	}
}
