//go:build !linux

package main

import "syscall"

// tmuxServerAttr: no parent-death signal here (Linux's alone), so a test
// process killed before its cleanup leaves its tmux server running.
func tmuxServerAttr() *syscall.SysProcAttr { return nil }
