//go:build windows

package vulkan

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// openLoader loads the Vulkan loader every Windows GPU driver installs
// (vulkan-1.dll, in System32), or the one RLT_VULKAN_LOADER names. The
// binding's calls go through purego.SyscallN, which on Windows is the
// system's own stdcall-free x64 convention that Vulkan's entry points use.
func openLoader() (uintptr, string, error) {
	names := []string{"vulkan-1.dll"}
	if p := os.Getenv("RLT_VULKAN_LOADER"); p != "" {
		names = []string{p}
	}
	var errs []error
	for _, name := range names {
		// System32 only for the bare name, so that a vulkan-1.dll dropped
		// beside the binary or in the working folder is not loaded.
		flags := uintptr(windows.LOAD_LIBRARY_SEARCH_SYSTEM32)
		if name != "vulkan-1.dll" {
			flags = 0
		}
		h, err := windows.LoadLibraryEx(name, 0, flags)
		if err == nil {
			return uintptr(h), name, nil
		}
		errs = append(errs, err)
	}
	return 0, "", loaderError(errors.Join(errs...))
}

// symbol resolves an exported function of the loader.
func symbol(lib uintptr, name string) (uintptr, error) {
	return windows.GetProcAddress(windows.Handle(lib), name)
}
