package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

// TensorBLAS is a gorgonia.org/tensor BLAS implementation whose Sgemm is this
// package's; every other routine is gonum's pure-Go implementation.
type TensorBLAS struct{ gonum.Implementation }

var _ tensor.BLAS = TensorBLAS{}

// Sgemm routes gonum's row-major Sgemm signature to this package's Sgemm.
func (TensorBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// UseWithTensor makes gorgonia.org/tensor (tensor.MatMul, Dense.MatMul, …)
// multiply float32 matrices with this package's Sgemm.
func UseWithTensor() { tensor.Use(TensorBLAS{}) }
