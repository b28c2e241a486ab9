package kernels

// sgemm is the small matrix product used by the attention kernels, with the
// signature of gemm.SgemmSerial (row-major, C = alpha·op(A)·op(B) + beta·C,
// op(X) = Xᵀ when transX). It is the single swap point: replacing its body by
// a call to gemm.SgemmSerial (or the call sites by gemm.SgemmSerial) changes
// nothing else. With AVX-512 it runs small assembly micro-kernels (4 rows ×
// 64 columns for A·B and Aᵀ·B, 4×4 dot blocks for A·Bᵀ); otherwise plain Go
// loops register-blocked by 4.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	for i := 0; i < m; i++ {
		cr := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(cr)
		case 1:
		default:
			for j := range cr {
				cr[j] *= beta
			}
		}
	}
	if k <= 0 || alpha == 0 {
		return
	}
	switch {
	case !transA && !transB:
		if useAVX512 {
			gemmAxpyAVX512(m, n, k, alpha, a, lda, 1, b, ldb, c, ldc)
			return
		}
		gemmNN(m, n, k, alpha, a, lda, b, ldb, c, ldc)
	case transA && !transB:
		if useAVX512 {
			gemmAxpyAVX512(m, n, k, alpha, a, 1, lda, b, ldb, c, ldc)
			return
		}
		gemmTN(m, n, k, alpha, a, lda, b, ldb, c, ldc)
	case !transA && transB:
		if useAVX512 {
			gemmDotAVX512(m, n, k, alpha, a, lda, b, ldb, c, ldc)
			return
		}
		gemmNT(m, n, k, alpha, a, lda, b, ldb, c, ldc)
	default: // transA && transB: unused by the kernels, plain loops
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[p*lda+i] * b[j*ldb+p]
				}
				c[i*ldc+j] += alpha * s
			}
		}
	}
}

// gemmNN: C += alpha·A·B, A [m,k], B [k,n]. Four rows of B per pass over a row of C.
func gemmNN(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		cr := c[i*ldc : i*ldc+n]
		ar := a[i*lda : i*lda+k]
		p := 0
		for ; p+4 <= k; p += 4 {
			a0, a1, a2, a3 := alpha*ar[p], alpha*ar[p+1], alpha*ar[p+2], alpha*ar[p+3]
			axpy4(cr, a0, a1, a2, a3, b[p*ldb:], b[(p+1)*ldb:], b[(p+2)*ldb:], b[(p+3)*ldb:])
		}
		for ; p < k; p++ {
			axpy1(cr, alpha*ar[p], b[p*ldb:])
		}
	}
}

// gemmTN: C += alpha·Aᵀ·B, A [k,m], B [k,n].
func gemmTN(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		cr := c[i*ldc : i*ldc+n]
		p := 0
		for ; p+4 <= k; p += 4 {
			a0, a1, a2, a3 := alpha*a[p*lda+i], alpha*a[(p+1)*lda+i], alpha*a[(p+2)*lda+i], alpha*a[(p+3)*lda+i]
			axpy4(cr, a0, a1, a2, a3, b[p*ldb:], b[(p+1)*ldb:], b[(p+2)*ldb:], b[(p+3)*ldb:])
		}
		for ; p < k; p++ {
			axpy1(cr, alpha*a[p*lda+i], b[p*ldb:])
		}
	}
}

// axpy4: y += a0·x0 + a1·x1 + a2·x2 + a3·x3 over len(y).
func axpy4(y []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	x0 = x0[:len(y)]
	x1 = x1[:len(y)]
	x2 = x2[:len(y)]
	x3 = x3[:len(y)]
	for j := range y {
		y[j] += a0*x0[j] + a1*x1[j] + a2*x2[j] + a3*x3[j]
	}
}

func axpy1(y []float32, a0 float32, x0 []float32) {
	x0 = x0[:len(y)]
	for j := range y {
		y[j] += a0 * x0[j]
	}
}

// gemmNT: C += alpha·A·Bᵀ, A [m,k], B [n,k]: dot products of rows, four rows
// of B at a time.
func gemmNT(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ar := a[i*lda : i*lda+k]
		cr := c[i*ldc : i*ldc+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			s0, s1, s2, s3 := dot4(ar, b[j*ldb:], b[(j+1)*ldb:], b[(j+2)*ldb:], b[(j+3)*ldb:])
			cr[j] += alpha * s0
			cr[j+1] += alpha * s1
			cr[j+2] += alpha * s2
			cr[j+3] += alpha * s3
		}
		for ; j < n; j++ {
			cr[j] += alpha * dot(ar, b[j*ldb:])
		}
	}
}

// dot4 returns the dot products of x with y0..y3 over len(x).
func dot4(x, y0, y1, y2, y3 []float32) (s0, s1, s2, s3 float32) {
	y0 = y0[:len(x)]
	y1 = y1[:len(x)]
	y2 = y2[:len(x)]
	y3 = y3[:len(x)]
	for p, v := range x {
		s0 += v * y0[p]
		s1 += v * y1[p]
		s2 += v * y2[p]
		s3 += v * y3[p]
	}
	return
}

// dot returns Σ x·y over len(x) with four independent accumulators.
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	p := 0
	for ; p+4 <= len(x); p += 4 {
		s0 += x[p] * y[p]
		s1 += x[p+1] * y[p+1]
		s2 += x[p+2] * y[p+2]
		s3 += x[p+3] * y[p+3]
	}
	for ; p < len(x); p++ {
		s0 += x[p] * y[p]
	}
	return (s0 + s1) + (s2 + s3)
}
