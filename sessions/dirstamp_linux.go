package sessions

import (
	"io/fs"
	"syscall"
	"time"
)

// dirStamp is what changes when a folder's entries do: its modification
// time, and its change time, which also moves on a chmod or chown and
// cannot be set back by a tool that restores modification times (rsync
// -t, tar).
type dirStamp struct{ mtime, ctime syscall.Timespec }

// osStamp is fi's stamp (ok false: the system does not say).
func osStamp(fi fs.FileInfo) (dirStamp, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return dirStamp{}, false
	}
	return dirStamp{mtime: st.Mtim, ctime: st.Ctim}, true
}

// before reports whether both times of the stamp are before t.
func (s dirStamp) before(t time.Time) bool {
	return time.Unix(s.mtime.Unix()).Before(t) && time.Unix(s.ctime.Unix()).Before(t)
}

// truncate is the stamp with its times cut to multiples of d, as a
// filesystem with coarser times would stamp the folder.
func (s dirStamp) truncate(d time.Duration) dirStamp {
	cut := func(ts syscall.Timespec) syscall.Timespec {
		return syscall.NsecToTimespec(ts.Nano() / int64(d) * int64(d))
	}
	return dirStamp{mtime: cut(s.mtime), ctime: cut(s.ctime)}
}
