package style

// RunColors gives runs their colours from SeriesPalette, the rule every
// view of several runs shares (the dashboard's comparison, rlt report): a
// run takes its name's slot (SeriesIndex) unless a run added before it
// holds that slot, then the next slot held by the fewest runs (with eight
// runs or fewer, a free one). Once given, a colour stays with its run
// while other runs are added and removed, so a run keeps its colour for
// as long as it is shown. The zero value is ready to use; a RunColors is
// not safe for concurrent use.
type RunColors struct {
	slot map[string]int
	used [len(SeriesPalette)]int
}

// Add gives run key its colour (the one it has if it was added before).
func (p *RunColors) Add(key string) Color {
	if i, ok := p.slot[key]; ok {
		return SeriesPalette[i]
	}
	if p.slot == nil {
		p.slot = map[string]int{}
	}
	want := SeriesIndex(key)
	best := want
	for k := 1; k < len(SeriesPalette); k++ {
		i := (want + k) % len(SeriesPalette)
		if p.used[i] < p.used[best] {
			best = i
		}
	}
	p.slot[key] = best
	p.used[best]++
	return SeriesPalette[best]
}

// Remove frees run key's colour (a later Add may give it another).
func (p *RunColors) Remove(key string) {
	if i, ok := p.slot[key]; ok {
		delete(p.slot, key)
		p.used[i]--
	}
}

// Color is run key's colour, if it has one.
func (p *RunColors) Color(key string) (Color, bool) {
	i, ok := p.slot[key]
	return SeriesPalette[i], ok
}
