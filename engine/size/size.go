// Package size is how the workbench writes and reads sizes of memory and
// files for people: one wording (binary units, GiB MiB KiB) in every
// message, and the sizes a user may type (RLT_MEMORY_LIMIT). It imports
// only the standard library, so the run store and the viewer use it
// without linking the engine.
package size

import (
	"fmt"
	"strconv"
	"strings"
)

// Bytes writes a size in binary units (GiB, MiB, KiB), as rlt model info,
// the GPU's messages and the memory_*_gib metrics say sizes: one size reads
// the same number everywhere the workbench prints it.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Parse reads a size: a number of bytes, or one with a unit (KB, MB,
// GB, TB as powers of 1000; KiB, MiB, GiB, TiB as powers of 1024).
func Parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a size (want bytes, or a number with KB, MB, GB, KiB, MiB or GiB)")
	}
	return int64(v * mult), nil
}
