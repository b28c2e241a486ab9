// Package cputime reads the CPU time the process has used, user and
// system, every thread: what the benchmarks and tests of compute, engine
// and ui report beside the wall time (cpu-ns/op, cpu-ms/op, GFLOP/cpu-s),
// since on a machine shared with other work the wall time counts the waits
// for a core and the CPU time does not. It sits under compute, the lowest
// layer, so that the tests of every layer can import it; it imports
// nothing of the module.
package cputime
