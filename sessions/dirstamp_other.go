//go:build !linux

package sessions

import (
	"io/fs"
	"time"
)

// dirStamp: without a folder's change time (see dirstamp_linux.go) its
// entries are never taken as unchanged; every folder is read again, as
// FolderSize does.
type dirStamp struct{}

func osStamp(fs.FileInfo) (dirStamp, bool) { return dirStamp{}, false }

func (dirStamp) before(time.Time) bool { return false }

func (dirStamp) truncate(time.Duration) dirStamp { return dirStamp{} }
