//go:build !amd64 || purego

package gemm

func archKernels() []*microKernel { return nil }
