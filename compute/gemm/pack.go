package gemm

// transPack16 is the SIMD transposing packer, or nil where the CPU has none:
// for each of blocks 16×16 blocks it reads rows r < rows of
// src[r*lds + 16b + c] (rows 1..16; rows ≥ rows read as zero) and writes
// dst[(16b+c)*ldd + r] = alpha·value for the lanes r set in mask.
// Tests clear it to exercise the Go packers.
var transPack16 func(src *float32, lds int, dst *float32, ldd int, blocks int, rows int, mask int, alpha float32)

// packAN packs rows [i0,i0+h) × columns [pc,pc+kb) of a row-major A (not
// transposed) into dst as kb columns of mr values, scaled by alpha; rows h..mr
// are zero.
func packAN(dst, a []float32, lda, i0, h, pc, kb, mr int, alpha float32) {
	dst = dst[:kb*mr]
	p0 := 0
	if transPack16 != nil && mr <= 16 && kb >= 16 {
		blocks := kb / 16
		_ = a[(i0+h-1)*lda+pc+blocks*16-1] // the block the assembly reads is in bounds
		transPack16(&a[i0*lda+pc], lda, &dst[0], mr, blocks, h, 1<<mr-1, alpha)
		p0 = blocks * 16
	}
	for i := 0; i < h && p0 < kb; i++ {
		row := a[(i0+i)*lda+pc+p0 : (i0+i)*lda+pc+kb]
		d := dst[p0*mr+i:]
		if alpha == 1 {
			for p, v := range row {
				d[p*mr] = v
			}
		} else {
			for p, v := range row {
				d[p*mr] = alpha * v
			}
		}
	}
	if h < mr {
		for p := p0; p < kb; p++ {
			clear(dst[p*mr+h : p*mr+mr])
		}
	}
}

// packAT packs op(A) rows [i0,i0+h) × columns [pc,pc+kb) where A is stored
// transposed (k×m, row-major): each packed column is a contiguous run of A.
func packAT(dst, a []float32, lda, i0, h, pc, kb, mr int, alpha float32) {
	dst = dst[:kb*mr]
	for p := 0; p < kb; p++ {
		src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+h]
		d := dst[p*mr : p*mr+mr]
		if alpha == 1 {
			copy(d, src)
		} else {
			for i, v := range src {
				d[i] = alpha * v
			}
		}
		clear(d[h:])
	}
}

// packBN packs rows [pc,pc+kb) × columns [j0,j0+w) of a row-major B (not
// transposed) into dst as kb rows of nr values; columns w..nr are zero.
func packBN(dst, b []float32, ldb, pc, kb, j0, w, nr int) {
	dst = dst[:kb*nr]
	for p := 0; p < kb; p++ {
		d := dst[p*nr : p*nr+nr]
		copy(d, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+w])
		clear(d[w:])
	}
}

// packBT packs op(B) rows [pc,pc+kb) × columns [j0,j0+w) where B is stored
// transposed (n×k, row-major).
func packBT(dst, b []float32, ldb, pc, kb, j0, w, nr int) {
	dst = dst[:kb*nr]
	p0 := 0
	if transPack16 != nil && nr%16 == 0 && kb >= 16 {
		blocks := kb / 16
		for jh := 0; jh*16 < nr; jh++ {
			rows := min(16, w-16*jh)
			if rows <= 0 {
				for p := 0; p < blocks*16; p++ {
					clear(dst[p*nr+16*jh : p*nr+16*jh+16])
				}
				continue
			}
			_ = b[(j0+16*jh+rows-1)*ldb+pc+blocks*16-1]
			transPack16(&b[(j0+16*jh)*ldb+pc], ldb, &dst[16*jh], nr, blocks, rows, 0xFFFF, 1)
		}
		p0 = blocks * 16
	}
	for j := 0; j < w && p0 < kb; j++ {
		row := b[(j0+j)*ldb+pc+p0 : (j0+j)*ldb+pc+kb]
		d := dst[p0*nr+j:]
		for p, v := range row {
			d[p*nr] = v
		}
	}
	if w < nr {
		for p := p0; p < kb; p++ {
			clear(dst[p*nr+w : p*nr+nr])
		}
	}
}

// packBNStrips packs strips [s0,s1) of the kb×nb block of a row-major B (not
// transposed) at row pc, column jc: strip s holds columns jc+s*nr… as kb rows
// of nr values at bp[s*kb*nr:], zero beyond column jc+nb. It walks B row by
// row, so the reads are sequential.
func packBNStrips(bp, b []float32, ldb, pc, kb, jc, nb, s0, s1, nr int) {
	full := s1 // strips [s0,full) are nr wide
	if (s1)*nr > nb {
		full = s1 - 1
	}
	for p := 0; p < kb; p++ {
		row := b[(pc+p)*ldb+jc : (pc+p)*ldb+jc+nb]
		s := s0
		switch nr {
		case 32:
			for ; s < full; s++ {
				*(*[32]float32)(bp[(s*kb+p)*32:]) = *(*[32]float32)(row[s*32:])
			}
		case 16:
			for ; s < full; s++ {
				*(*[16]float32)(bp[(s*kb+p)*16:]) = *(*[16]float32)(row[s*16:])
			}
		}
		for ; s < s1; s++ {
			d := bp[(s*kb+p)*nr : (s*kb+p)*nr+nr]
			n := copy(d, row[s*nr:])
			clear(d[n:])
		}
	}
}
