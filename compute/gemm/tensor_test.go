package gemm

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

func TestUseWithTensor(t *testing.T) {
	old := tensor.WhichBLAS()
	UseWithTensor()
	defer tensor.Use(old)
	if _, ok := tensor.WhichBLAS().(TensorBLAS); !ok {
		t.Fatalf("tensor BLAS is %T", tensor.WhichBLAS())
	}
	r := rand.New(rand.NewPCG(13, 14))
	for _, sh := range []struct{ m, k, n int }{{3, 5, 7}, {64, 33, 70}, {130, 257, 90}} {
		ad, bd := randSlice(r, sh.m*sh.k), randSlice(r, sh.k*sh.n)
		A := tensor.New(tensor.WithShape(sh.m, sh.k), tensor.WithBacking(append([]float32(nil), ad...)))
		B := tensor.New(tensor.WithShape(sh.k, sh.n), tensor.WithBacking(append([]float32(nil), bd...)))
		C, err := tensor.MatMul(A, B)
		if err != nil {
			t.Fatal(err)
		}
		got := C.Data().([]float32)
		want := make([]float32, sh.m*sh.n)
		Sgemm(false, false, sh.m, sh.n, sh.k, 1, ad, sh.k, bd, sh.n, 0, want, sh.n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: tensor.MatMul[%d]=%v, Sgemm gives %v", sh, i, got[i], want[i])
			}
		}
		// A transposed view (Aᵀ is k×m stored as A's data) goes through tA=Trans.
		At := tensor.New(tensor.WithShape(sh.k, sh.m), tensor.WithBacking(append([]float32(nil), ad[:sh.k*sh.m]...)))
		if err := At.T(); err != nil {
			t.Fatal(err)
		}
		Bt := tensor.New(tensor.WithShape(sh.k, sh.n), tensor.WithBacking(append([]float32(nil), bd...)))
		C2, err := tensor.MatMul(At, Bt)
		if err != nil {
			t.Fatal(err)
		}
		want2 := make([]float32, sh.m*sh.n)
		Sgemm(true, false, sh.m, sh.n, sh.k, 1, ad, sh.m, bd, sh.n, 0, want2, sh.n)
		got2 := C2.Data().([]float32)
		for i := range want2 {
			if got2[i] != want2[i] {
				t.Fatalf("%v transposed A: tensor.MatMul[%d]=%v, Sgemm gives %v", sh, i, got2[i], want2[i])
			}
		}
	}
}
