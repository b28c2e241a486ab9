package vulkan

import (
	"slices"

	"github.com/rlt-workbench/rlt/compute"
)

// headChunkFloats caps the logits the fused LM head holds at once on the
// device, a chunk of rows × V floats: 1 GiB. headFloats lowers it to what
// the device binds in one buffer and can spare. Small chunks starve a GPU:
// at 0.5B's vocabulary lavapipe's 64 MiB is 55 rows a chunk in backward,
// and dh = dz·W then runs as 14 workgroups each walking all 151,936 of K.
var headChunkFloats = 1 << 28

// headFloats is the fused head's logits budget on this device (headFloatsOn).
func (b *Backend) headFloats() int { return headFloatsOn(b.d.info) }

// headFloatsOn is the fused head's logits budget on a device: half the
// largest buffer it binds (lavapipe: 128 MiB, so 64 MiB), at most 1/64 of
// its memory, at most headChunkFloats.
func headFloatsOn(in Info) int {
	bytes := min(in.MaxStorageBufferRange/2, in.DeviceLocalBytes/64)
	return min(headChunkFloats, int(bytes/4))
}

// HeadBytes is the device memory the fused head's logits take on a device
// at their largest: a forward chunk, or a backward chunk's logits and their
// gradient (half the rows each), which share the forward's buffer: 1.5×
// the budget. Memory estimates add it for runs on a GPU. A chunk is at
// least one row: the logits of a vocabulary wider than ¾ of the budget
// pass it, and ScratchBytes counts the rest.
func HeadBytes(in Info) int64 { return int64(headFloatsOn(in)) * 4 * 3 / 2 }

// HeadForwardBytes is HeadBytes for forwards alone with no KL (rlt score
// by the log-ratio or k3 estimator): a forward chunk's logits, the budget,
// where no backward or KL chunk adds its second buffer. A chunk of one row
// past it is counted by ScratchBytes, as for HeadBytes.
func HeadForwardBytes(in Info) int64 { return int64(headFloatsOn(in)) * 4 }

// headRows is the number of rows per chunk for n rows of width V within
// budget floats, spread evenly over the chunks.
func headRows(n, V, budget int) int {
	c := max(1, budget/V)
	if n <= c {
		return n
	}
	chunks := (n + c - 1) / c
	return (n + chunks - 1) / chunks
}

// activeRows returns the rows that have a target (compute.TargetRows), in
// the Backend's reused scratch (the head's ops record uploads that copy
// what they read).
func (b *Backend) activeRows(targets []int32) []int32 {
	b.headRows = compute.TargetRows(b.headRows, targets)
	return b.headRows
}

// chunkTargets returns the Backend's reused scratch for a chunk's m targets.
func (b *Backend) chunkTargets(m int) []int32 {
	b.headTargets = slices.Grow(b.headTargets[:0], m)[:m]
	return b.headTargets
}

// HeadLogProbs implements compute.Backend: the rows with a target are
// gathered a chunk at a time, their logits made by the GEMM into one
// device buffer, reduced by the log-prob (and entropy) kernels and
// scattered back. Nothing crosses to the host.
func (b *Backend) HeadLogProbs(lp, lse, ent, h, w *compute.Tensor, vocab int, targets []int32, invTemp float32) {
	d := b.d
	H := view(h)
	N, dm, V := len(targets), H.lastDim(), vocab
	W := part(view(w), V, dm) // the vocabulary's rows of a padded table, in place
	LP, LSE := part(view(lp), N, 1), part(view(lse), N, 1)
	d.Zero(LP)
	d.Zero(LSE)
	var ENT *Tensor
	if ent != nil {
		ENT = part(view(ent), N, 1)
		d.Zero(ENT)
	}
	rows := b.activeRows(targets)
	if len(rows) == 0 {
		return
	}
	// Chunks by the table's rows, as HeadKL's: ScratchBytes counts a
	// chunk from the table (Shapes.Vocab), and the vocabulary of fewer
	// rows a pair shares (rlt score's) fit a row more.
	m := headRows(len(rows), max(V, view(w).rows()), b.headFloats())
	hcS, zS := b.scratchOf("head.h", m*dm), b.scratchOf("head.z", m*V)
	lpS, lseS, entS := b.scratchOf("head.lp", m), b.scratchOf("head.lse", m), b.scratchOf("head.ent", m)
	tg := b.chunkTargets(m)
	for i0 := 0; i0 < len(rows); i0 += m {
		ids := rows[i0:min(i0+m, len(rows))]
		n := len(ids)
		for i, r := range ids {
			tg[i] = targets[r]
		}
		hc, z := part(hcS, n, dm), part(zS, n, V)
		d.GatherRows(hc, H, ids)
		d.Linear(z, hc, W, nil)
		lpc, lsec := part(lpS, n, 1), part(lseS, n, 1)
		d.TokenLogProbs(lpc, lsec, z, tg[:n], invTemp)
		d.ScatterRowsBackward(LP, lpc, ids)
		d.ScatterRowsBackward(LSE, lsec, ids)
		if ENT != nil {
			entc := part(entS, n, 1)
			d.Entropy(entc, z, invTemp)
			d.ScatterRowsBackward(ENT, entc, ids)
		}
	}
}

// HeadLogProbsBackward implements compute.Backend: each chunk's logits are
// made again, turned into their gradient, and multiplied into dh (through
// a gathered block scattered back) and dw.
func (b *Backend) HeadLogProbsBackward(dh, dw, glp, h, w, lse *compute.Tensor, vocab int, targets []int32, invTemp float32) {
	if dh == nil && dw == nil {
		return
	}
	d := b.d
	H := view(h)
	N, dm, V := len(targets), H.lastDim(), vocab
	W := part(view(w), V, dm)
	G, LSE := part(view(glp), N, 1), part(view(lse), N, 1)
	DH, DW := view(dh), view(dw)
	if DW != nil {
		DW = part(DW, V, dm) // rows from vocab on are left as they are
	}
	rows := b.activeRows(targets)
	if len(rows) == 0 {
		return
	}
	m := headRows(len(rows), max(V, view(w).rows()), b.headFloats()/2) // the table's rows, as HeadLogProbs'
	hcS, zS, dzS := b.scratchOf("head.h", m*dm), b.scratchOf("head.z", m*V), b.scratchOf("head.dz", m*V)
	gS, lseS, dhS := b.scratchOf("head.g", m), b.scratchOf("head.lse", m), b.scratchOf("head.dh", m*dm)
	tg := b.chunkTargets(m)
	for i0 := 0; i0 < len(rows); i0 += m {
		ids := rows[i0:min(i0+m, len(rows))]
		n := len(ids)
		for i, r := range ids {
			tg[i] = targets[r]
		}
		hc, z, dz := part(hcS, n, dm), part(zS, n, V), part(dzS, n, V)
		d.GatherRows(hc, H, ids)
		d.Linear(z, hc, W, nil)
		gc, lsec := part(gS, n, 1), part(lseS, n, 1)
		d.GatherRows(gc, G, ids)
		d.GatherRows(lsec, LSE, ids)
		d.Zero(dz)
		d.TokenLogProbsBackward(dz, gc, z, lsec, tg[:n], invTemp)
		var dhc *Tensor
		if DH != nil {
			dhc = part(dhS, n, dm)
			d.Zero(dhc)
		}
		d.LinearBackward(dhc, DW, nil, dz, hc, W)
		if DH != nil {
			d.ScatterRowsBackward(part(DH, DH.n/dm, dm), dhc, ids)
		}
	}
}

// HeadKL implements compute.Backend: a chunk of rows at a time, both
// models' logits in two device buffers, reduced by the KL kernel. A chunk
// holds as many rows as the wider head's table leaves in half the budget
// (what ScratchBytes counts).
func (b *Backend) HeadKL(kl, hp, wp, hq, wq *compute.Tensor, vocab int, invTemp float32) {
	d := b.d
	HP, HQ := view(hp), view(hq)
	dp, dq, V := HP.lastDim(), HQ.lastDim(), vocab
	WP, WQ := part(view(wp), V, dp), part(view(wq), V, dq)
	N := HP.rows()
	KL := part(view(kl), N, 1)
	if N == 0 {
		return
	}
	// Chunks of rows by the wider table's rows, not the shared
	// vocabulary's: ScratchBytes counts each model's chunk from its table
	// (Shapes.Vocab), and a vocabulary of fewer rows fit a row more.
	m := headRows(N, max(V, view(wp).rows(), view(wq).rows()), b.headFloats()/2)
	hpS, hqS := b.scratchOf("head.hp", m*dp), b.scratchOf("head.hq", m*dq)
	zpS, zqS, klS := b.scratchOf("head.z", m*V), b.scratchOf("head.dz", m*V), b.scratchOf("head.kl", m)
	ids := make([]int32, m)
	d.Zero(KL)
	for r0 := 0; r0 < N; r0 += m {
		n := min(m, N-r0)
		for i := range n {
			ids[i] = int32(r0 + i)
		}
		hpc, hqc := part(hpS, n, dp), part(hqS, n, dq)
		d.GatherRows(hpc, HP, ids[:n])
		d.GatherRows(hqc, HQ, ids[:n])
		zp, zq := part(zpS, n, V), part(zqS, n, V)
		d.Linear(zp, hpc, WP, nil)
		d.Linear(zq, hqc, WQ, nil)
		klc := part(klS, n, 1)
		d.KL(klc, zp, zq, invTemp)
		d.ScatterRowsBackward(KL, klc, ids[:n])
	}
}
