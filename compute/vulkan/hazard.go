package vulkan

import "unsafe"

// Barriers between commands. A command that reads or writes a buffer the
// commands since the last barrier wrote, or writes one they read, waits
// behind a full barrier; commands with no such conflict run without one
// between them, so independent kernels (a layer's q, k and v projections,
// its gate and up projections, the gradients of a weight and of its input)
// may overlap on a GPU. Which storage buffers a kernel writes comes from
// its SPIR-V (writtenBindings): a binding GLSL declares readonly is
// NonWritable there. Tracking is per buffer, not per range: two commands
// writing disjoint parts of one buffer still get a barrier between them.
// While profiling, every command is followed by a barrier, as before, so
// that consecutive timestamps bracket one kernel; RLT_VULKAN_BARRIERS=all
// does the same without the profile (A/B timing, and a check on a GPU
// that a wrong result does not come from the tracking).

// hazards are the buffers the commands since the last barrier read and
// wrote: a few at a time, so slices beat maps.
type hazards struct {
	read, written []*buffer
	// barriers and elided count what the tracking did (tests).
	barriers, elided int
}

func holds(bs []*buffer, b *buffer) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// maxTracked bounds the buffers tracked between barriers: past it the next
// command gets a barrier anyway, so that a long run of independent
// commands (a step's AdamW updates: four buffers each) keeps the host's
// scans short.
const maxTracked = 256

// order records a barrier before a command on ops (bit i of writes: op i
// is written) when it conflicts with the commands since the last barrier,
// then adds its buffers to theirs.
func (d *Device) order(ops []binding, writes uint32) {
	h := &d.haz
	conflict := len(h.read)+len(h.written) >= maxTracked
	for i, op := range ops {
		if writes&(1<<i) != 0 {
			conflict = conflict || holds(h.read, op.b) || holds(h.written, op.b)
		} else {
			conflict = conflict || holds(h.written, op.b)
		}
	}
	if conflict {
		d.barrier()
		h.barriers++
	} else if len(h.read)+len(h.written) > 0 {
		h.elided++
	}
	for i, op := range ops {
		if writes&(1<<i) != 0 {
			h.written = append(h.written, op.b)
		} else {
			h.read = append(h.read, op.b)
		}
	}
}

// before orders a command on ops (bit i of writes: op i is written) after
// the commands it conflicts with; while profiling, after every command.
func (d *Device) before(ops []binding, writes uint32) {
	for _, op := range ops {
		if op.b != nil {
			op.b.usedIn = d.done + 1 // for release
		}
	}
	if d.prof != nil || d.allBarriers {
		d.settle()
		return
	}
	d.order(ops, writes)
}

// after closes a command: a barrier while profiling, so that the next
// timestamp brackets this command alone; else nothing (before decides).
func (d *Device) after() {
	if d.prof != nil || d.allBarriers {
		d.barrier()
	}
}

// transfer orders a copy or fill that reads src (nil for none, or the
// host's upload arena) and writes dst.
func (d *Device) transfer(src, dst *buffer) {
	ops := [2]binding{{b: dst}, {b: src}}
	n := 2
	if src == nil {
		n = 1
	}
	d.before(ops[:n], 1)
}

// settle records a barrier if any command since the last one is not yet
// ordered before what follows (the end of a batch).
func (d *Device) settle() {
	if len(d.haz.read)+len(d.haz.written) > 0 {
		d.barrier()
		d.haz.barriers++
	}
}

// barrier orders every earlier shader or transfer write before every later
// shader or transfer access, and forgets the tracked buffers.
func (d *Device) barrier() {
	d.rec.barrier = memoryBarrier{sType: stMemoryBarrier,
		srcAccessMask: accessShaderWrite | accessTransferWrite,
		dstAccessMask: accessShaderRead | accessShaderWrite | accessTransferRead | accessTransferWrite}
	st := uint32(pipeStageCompute | pipeStageTransfer)
	d.vk.cmdMemoryBarrier(d.cmd, st, st, unsafe.Pointer(&d.rec.barrier))
	d.haz.read, d.haz.written = d.haz.read[:0], d.haz.written[:0]
}

// SPIR-V words of the instructions writtenBindings reads.
const (
	spvOpTypeStruct     = 30
	spvOpTypePointer    = 32
	spvOpVariable       = 59
	spvOpDecorate       = 71
	spvOpMemberDecorate = 72
	spvDecNonWritable   = 24
	spvDecBinding       = 33
)

// writtenBindings reads from a SPIR-V module which storage buffer bindings
// (of the first n) its shader may write: those whose variable is not
// NonWritable and whose block has a member that is not NonWritable. A
// binding the module does not declare (the compiler dropped it as unused)
// is not written. Several variables on one binding (aliases) write it if
// any does.
func writtenBindings(words []uint32, n int) (uint32, error) {
	binding := map[uint32]uint32{}      // variable → binding
	varType := map[uint32]uint32{}      // variable → pointer type
	pointee := map[uint32]uint32{}      // pointer type → pointee
	members := map[uint32]int{}         // struct → members
	readonlyMembers := map[uint32]int{} // struct → NonWritable members
	readonlyVar := map[uint32]bool{}
	err := spirvInstructions(words, func(op uint32, a []uint32) {
		switch {
		case op == spvOpDecorate && len(a) >= 3 && a[1] == spvDecBinding:
			binding[a[0]] = a[2]
		case op == spvOpDecorate && len(a) >= 2 && a[1] == spvDecNonWritable:
			readonlyVar[a[0]] = true
		case op == spvOpMemberDecorate && len(a) >= 3 && a[2] == spvDecNonWritable:
			readonlyMembers[a[0]]++
		case op == spvOpTypeStruct && len(a) >= 1:
			members[a[0]] = len(a) - 1
		case op == spvOpTypePointer && len(a) >= 3:
			pointee[a[0]] = a[2]
		case op == spvOpVariable && len(a) >= 2:
			varType[a[1]] = a[0]
		}
	})
	if err != nil {
		return 0, err
	}
	var writes uint32
	for v, b := range binding {
		if int(b) >= n || readonlyVar[v] {
			continue
		}
		st := pointee[varType[v]]
		if m := members[st]; m == 0 || readonlyMembers[st] < m {
			writes |= 1 << b
		}
	}
	return writes, nil
}
