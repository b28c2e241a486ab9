//go:build linux || darwin || freebsd

package vulkan

import (
	"errors"
	"os"
	"runtime"

	"github.com/ebitengine/purego"
)

// loaderNames are the Vulkan loader's library names, most specific first.
// RLT_VULKAN_LOADER, when set, names the one library to load instead (a
// loader outside the linker's search path).
func loaderNames() []string {
	if p := os.Getenv("RLT_VULKAN_LOADER"); p != "" {
		return []string{p}
	}
	if runtime.GOOS == "darwin" {
		return []string{"libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib"}
	}
	return []string{"libvulkan.so.1", "libvulkan.so"}
}

// openLoader dlopens the first Vulkan loader found.
func openLoader() (uintptr, string, error) {
	var errs []error
	for _, name := range loaderNames() {
		lib, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return lib, name, nil
		}
		errs = append(errs, err)
	}
	return 0, "", loaderError(errors.Join(errs...))
}

// symbol resolves an exported function of the loader.
func symbol(lib uintptr, name string) (uintptr, error) { return purego.Dlsym(lib, name) }
