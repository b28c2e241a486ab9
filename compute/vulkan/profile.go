package vulkan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// Profile is where a Device's time went between StartProfile and
// StopProfile. The device writes a timestamp after every command it runs
// (while profiling each command is followed by a full barrier and batches
// go whole, so consecutive timestamps bracket one kernel), and the host
// times its waits on fences. GPU far below
// Wall means the host is the bottleneck: recording, descriptor sets, or
// work between batches.
type Profile struct {
	Kernels  []KernelTime // most total time first
	GPU      time.Duration
	Wait     time.Duration // host blocked on the device's fences
	Wall     time.Duration
	Batches  int
	Commands int
}

// KernelTime is one kernel's (or copy's) share of a Profile.
type KernelTime struct {
	Name  string
	Count int
	Total time.Duration
	// Groups are the fewest and the most workgroups one of the kernel's
	// dispatches ran (0 for a copy): a kernel that takes much of the time
	// in few workgroups leaves most of a GPU idle, whatever its speed on
	// a CPU device, whose few cores any handful of workgroups fills.
	Groups [2]uint32
}

// String is the profile as a table, ready for a log.
func (p Profile) String() string {
	var b strings.Builder
	pct := func(d time.Duration) float64 {
		if p.GPU <= 0 {
			return 0
		}
		return 100 * float64(d) / float64(p.GPU)
	}
	fmt.Fprintf(&b, "wall %v, GPU busy %v (%.0f%% of wall), host waiting on fences %v, %d batches, %d commands\n",
		p.Wall.Round(time.Microsecond), p.GPU.Round(time.Microsecond), 100*float64(p.GPU)/float64(max(p.Wall, 1)),
		p.Wait.Round(time.Microsecond), p.Batches, p.Commands)
	for _, k := range p.Kernels {
		groups := ""
		if k.Groups[1] > 0 {
			groups = fmt.Sprintf("  %d workgroups", k.Groups[0])
			if k.Groups[1] == 1 {
				groups = "  1 workgroup"
			} else if k.Groups[1] != k.Groups[0] {
				groups = fmt.Sprintf("  %d–%d workgroups", k.Groups[0], k.Groups[1])
			}
		}
		fmt.Fprintf(&b, "  %-14s %6d × %10.1f µs = %10.3f ms  %5.1f%%%s\n", k.Name, k.Count,
			float64(k.Total.Nanoseconds())/1e3/float64(max(k.Count, 1)), float64(k.Total.Nanoseconds())/1e6, pct(k.Total), groups)
	}
	return b.String()
}

// profiler is the Device's timestamp pool and running totals.
type profiler struct {
	pool    vkHandle
	slots   uint32   // timestamps per batch: the batch's start and one per command
	labels  []string // the command each later timestamp closes
	groups  []uint32 // the workgroups of each labelled command (0: not a dispatch)
	skipped bool     // commands ran past the pool: the last stamp closes them
	period  float64  // nanoseconds per tick
	mask    uint64   // the queue's valid timestamp bits
	ticks   []uint64
	totals  map[string]*KernelTime
	p       Profile
	start   time.Time
}

// profileSlots bounds a batch's timestamps; commands past it are timed
// together, as "(untimed)".
const profileSlots = 4 * setsPerBatch

// StartProfile starts timing every command on the device (see Profile). It
// fails on a queue without timestamps.
func (d *Device) StartProfile() error {
	if d.err != nil {
		return d.err
	}
	if d.prof != nil {
		return errors.New("vulkan: a profile is already running")
	}
	var n uint32
	d.vk.getPhysicalDeviceQueueFamilyProperty(d.phys, &n, nil)
	fams := make([]queueFamilyProperties, n)
	if n > 0 {
		d.vk.getPhysicalDeviceQueueFamilyProperty(d.phys, &n, unsafe.Pointer(&fams[0]))
	}
	if d.family >= n || fams[d.family].timestampValidBits == 0 {
		return fmt.Errorf("vulkan: %s: its compute queue writes no timestamps, so it cannot be profiled", d.info.Name)
	}
	bits := fams[d.family].timestampValidBits
	var props [physicalDevicePropertiesSize]byte
	d.vk.getPhysicalDeviceProperties(d.phys, unsafe.Pointer(&props[0]))
	period := *(*float32)(unsafe.Pointer(&props[propLimits+limTimestampPeriod]))
	if err := d.Flush(); err != nil { // the profile starts on a batch of its own
		return err
	}
	pr := &profiler{slots: profileSlots + 1, period: float64(period), mask: ^uint64(0), totals: map[string]*KernelTime{}, start: time.Now()}
	if bits < 64 {
		pr.mask = 1<<bits - 1
	}
	qi := &queryPoolCreateInfo{sType: stQueryPoolCreateInfo, queryType: queryTypeTimestamp, queryCount: pr.slots}
	if r := d.vk.createQueryPool(d.dev, unsafe.Pointer(qi), nil, &pr.pool); r != vkSuccess {
		return d.fail("create a timestamp pool", r)
	}
	pr.ticks = make([]uint64, pr.slots)
	d.prof = pr
	return nil
}

// StopProfile waits for the work recorded so far and returns its profile.
func (d *Device) StopProfile() Profile {
	pr := d.prof
	if pr == nil {
		return Profile{}
	}
	_ = d.Flush()
	d.prof = nil
	d.vk.destroyQueryPool(d.dev, pr.pool, nil)
	pr.p.Wall = time.Since(pr.start)
	for _, k := range pr.totals {
		pr.p.Kernels = append(pr.p.Kernels, *k)
	}
	slices.SortFunc(pr.p.Kernels, func(a, b KernelTime) int {
		if a.Total != b.Total {
			return int(b.Total - a.Total)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return pr.p
}

// profileBegin opens a batch's timestamps: reset the pool, stamp the start.
func (d *Device) profileBegin() {
	pr := d.prof
	if pr == nil {
		return
	}
	d.vk.cmdResetQueryPool(d.cmd, pr.pool, 0, pr.slots)
	d.vk.cmdWriteTimestamp(d.cmd, pipeStageBottom, pr.pool, 0)
	pr.labels, pr.groups, pr.skipped = pr.labels[:0], pr.groups[:0], false
}

// stamp closes the command just recorded with a timestamp labelled name;
// groups is the workgroups it dispatched, 0 for a copy.
func (d *Device) stamp(name string, groups uint32) {
	pr := d.prof
	if pr == nil || !d.recording {
		return
	}
	if uint32(len(pr.labels))+2 >= pr.slots { // keep one slot for the closing stamp
		pr.skipped = true
		return
	}
	pr.labels, pr.groups = append(pr.labels, name), append(pr.groups, groups)
	d.vk.cmdWriteTimestamp(d.cmd, pipeStageBottom, pr.pool, uint32(len(pr.labels)))
}

// profileEnd is called before a batch's command buffer ends.
func (d *Device) profileEnd() {
	pr := d.prof
	if pr == nil || !pr.skipped {
		return
	}
	pr.labels, pr.groups = append(pr.labels, "(untimed)"), append(pr.groups, 0)
	d.vk.cmdWriteTimestamp(d.cmd, pipeStageBottom, pr.pool, uint32(len(pr.labels)))
}

// profileCollect reads a finished batch's timestamps into the totals.
func (d *Device) profileCollect(wait time.Duration) {
	pr := d.prof
	if pr == nil {
		return
	}
	pr.p.Wait += wait
	pr.p.Batches++
	n := uint32(len(pr.labels)) + 1
	if r := d.vk.getQueryPoolResults(d.dev, pr.pool, 0, n, uintptr(8*n), unsafe.Pointer(&pr.ticks[0]), 8, queryResult64|queryResultWait); r != vkSuccess {
		d.err = d.fail("read timestamps", r)
		return
	}
	ns := func(a, b uint64) time.Duration { return time.Duration(float64((b-a)&pr.mask) * pr.period) }
	for i, name := range pr.labels {
		k := pr.totals[name]
		if k == nil {
			k = &KernelTime{Name: name}
			pr.totals[name] = k
		}
		if g := pr.groups[i]; g > 0 {
			if k.Groups[1] == 0 || g < k.Groups[0] {
				k.Groups[0] = g
			}
			k.Groups[1] = max(k.Groups[1], g)
		}
		k.Count++
		k.Total += ns(pr.ticks[i], pr.ticks[i+1])
	}
	pr.p.Commands += len(pr.labels)
	pr.p.GPU += ns(pr.ticks[0], pr.ticks[n-1])
}
