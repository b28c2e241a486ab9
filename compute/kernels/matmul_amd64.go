//go:build amd64 && !purego

package kernels

//go:noescape
func axpy4AVX512(c *float32, ldc int, a *float32, ai, ap int, b *float32, ldb int, k int, masks uint64, alpha float32)

//go:noescape
func axpy1AVX512(c *float32, a *float32, ap int, b *float32, ldb int, k int, masks uint64, alpha float32)

//go:noescape
func dot4x4AVX512(c *float32, ldc int, a0, a1, a2, a3, b0, b1, b2, b3 *float32, k int, masks uint64, alpha float32)

//go:noescape
func dot1x4AVX512(c *float32, a, b0, b1, b2, b3 *float32, k int, mask uint64, alpha float32)

// colMasks packs the lane masks of a block of nb ≤ 64 columns, 16 bits per vector.
func colMasks(nb int) uint64 {
	if nb >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(nb) - 1
}

// gemmAxpyAVX512: C += alpha·A·B with A(i, p) = a[i·ai + p·ap] (A·B: ai = lda,
// ap = 1; Aᵀ·B: ai = 1, ap = lda), B [k, n], for m, n, k > 0.
func gemmAxpyAVX512(m, n, k int, alpha float32, a []float32, ai, ap int, b []float32, ldb int, c []float32, ldc int) {
	// bounds of everything the assembly touches
	_ = a[(m-1)*ai+(k-1)*ap]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	for j0 := 0; j0 < n; j0 += 64 {
		nb := min(64, n-j0)
		masks := colMasks(nb)
		i := 0
		for ; i+4 <= m; i += 4 {
			axpy4AVX512(&c[i*ldc+j0], ldc, &a[i*ai], ai, ap, &b[j0], ldb, k, masks, alpha)
		}
		for ; i < m; i++ {
			axpy1AVX512(&c[i*ldc+j0], &a[i*ai], ap, &b[j0], ldb, k, masks, alpha)
		}
	}
}

// gemmDotAVX512: C += alpha·A·Bᵀ, A [m, k], B [n, k], for m, n, k > 0.
func gemmDotAVX512(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	_ = a[(m-1)*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[(m-1)*ldc+n-1]
	if m == 1 { // one query row (decoding): 1×4 blocks
		for j0 := 0; j0 < n; j0 += 4 {
			nr := min(4, n-j0)
			b0 := &b[j0*ldb]
			b1 := &b[(j0+min(1, nr-1))*ldb]
			b2 := &b[(j0+min(2, nr-1))*ldb]
			b3 := &b[(j0+min(3, nr-1))*ldb]
			dot1x4AVX512(&c[j0], &a[0], b0, b1, b2, b3, k, uint64(1)<<uint(nr)-1, alpha)
		}
		return
	}
	for i0 := 0; i0 < m; i0 += 4 {
		mr := min(4, m-i0)
		// rows past the end repeat the last row; their results are not stored
		a0 := &a[i0*lda]
		a1 := &a[(i0+min(1, mr-1))*lda]
		a2 := &a[(i0+min(2, mr-1))*lda]
		a3 := &a[(i0+min(3, mr-1))*lda]
		for j0 := 0; j0 < n; j0 += 4 {
			nr := min(4, n-j0)
			b0 := &b[j0*ldb]
			b1 := &b[(j0+min(1, nr-1))*ldb]
			b2 := &b[(j0+min(2, nr-1))*ldb]
			b3 := &b[(j0+min(3, nr-1))*ldb]
			masks := uint64(1)<<uint(4*mr) - 1 // rows
			if nr < 4 {
				masks &= 0x1111 * (uint64(1)<<uint(nr) - 1)
			}
			dot4x4AVX512(&c[i0*ldc+j0], ldc, a0, a1, a2, a3, b0, b1, b2, b3, k, masks, alpha)
		}
	}
}
