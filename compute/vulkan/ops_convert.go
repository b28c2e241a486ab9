package vulkan

import "github.com/rlt-workbench/rlt/compute"

// convertPush is convert.comp's push constants.
type convertPush struct {
	n, dst, src, mix uint32
	alpha, beta      float32
}

// kindCode is convert.comp's code for an element type.
func kindCode(dt compute.DType) uint32 {
	switch dt {
	case compute.BF16:
		return 1
	case compute.F16:
		return 2
	}
	return 0
}

// convert records dst = src converted to dst's type (mix false), or
// dst = alpha·src + (1−alpha)·dst in float32 rounded to dst's type (mix
// true), on the device: widening is exact, rounding to 16 bits matches
// compute/half bit for bit, and the mix is kernels.Mix's, two roundings
// and no fused multiply-add. A 16-bit dst is written a 32-bit word (two
// elements) per invocation; the callers have checked lengths and frozen.
func (d *Device) convert(dst, src *Tensor, mix bool, alpha float32) {
	p := convertPush{dst: kindCode(dst.dt), src: kindCode(src.dt)}
	if mix {
		p.mix, p.alpha, p.beta = 1, alpha, 1-alpha
	}
	big := dst // the wider of the two sets the windows
	if dst.dt.Is16() {
		big = src
	}
	d.eachWindow(big, func(e0, n int) {
		p.n = uint32(n)
		items := n
		if dst.dt.Is16() {
			items = ceilDiv(n, 2)
		}
		dispatch(d, kConvert, &p, linearGroups(ceilDiv(items, groupSize)), dst.span(e0, n), src.span(e0, n))
	})
}
