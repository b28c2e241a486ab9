//go:build !(linux || darwin || freebsd || windows)

package vulkan

import (
	"fmt"
	"runtime"
)

// openLoader reports that this operating system is not supported yet: the
// binding dlopens the loader through purego's Dlopen, which these systems lack.
func openLoader() (uintptr, string, error) {
	return 0, "", &Error{Kind: ErrNoLoader, Op: "load the Vulkan loader",
		Err: fmt.Errorf("the Vulkan backend does not support %s yet", runtime.GOOS)}
}

// symbol is never reached: openLoader fails first on these systems.
func symbol(lib uintptr, name string) (uintptr, error) {
	return 0, fmt.Errorf("no symbol %s on %s", name, runtime.GOOS)
}
