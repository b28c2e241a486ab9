package durable

import (
	"bytes"
	"os"
	"strconv"
)

// exited reports whether the process pid has exited and is not yet
// reaped (Z, a zombie) or is being reaped (X), by its state in
// /proc/PID/stat: the field after the command name, which is in
// parentheses and may itself hold ") ". A stat that cannot be read (no
// /proc mounted, the process reaped meanwhile) says nothing: false.
func exited(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state == 'Z' || state == 'X'
}
