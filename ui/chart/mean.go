package chart

import (
	"math"
	"slices"
	"sort"
)

// meanAcc is, per step (sorted), how many shown series have a point there
// and the running mean and sum of squared deviations of their values
// (Welford's update, exact enough for values far from zero with a small
// spread).
type meanAcc struct {
	steps []int64
	n     []int32
	mean  []float64
	m2    []float64
}

// add folds value v at step in and returns the step's index, and whether
// the step was new and went in before the last (moving the later ones).
func (a *meanAcc) add(step int64, v float64) (i int, moved bool) {
	i = len(a.steps)
	if i == 0 || a.steps[i-1] < step {
		a.steps = append(a.steps, step)
		a.n = append(a.n, 0)
		a.mean = append(a.mean, 0)
		a.m2 = append(a.m2, 0)
	} else {
		i = sort.Search(len(a.steps), func(k int) bool { return a.steps[k] >= step })
		if a.steps[i] != step {
			moved = true
			a.steps = slices.Insert(a.steps, i, step)
			a.n = slices.Insert(a.n, i, 0)
			a.mean = slices.Insert(a.mean, i, 0)
			a.m2 = slices.Insert(a.m2, i, 0)
		}
	}
	a.n[i]++
	d := v - a.mean[i]
	a.mean[i] += d / float64(a.n[i])
	a.m2[i] += d * (v - a.mean[i])
	return i, moved
}

// std is the population standard deviation at index i.
func (a *meanAcc) std(i int) float64 {
	return math.Sqrt(math.Max(a.m2[i]/float64(a.n[i]), 0))
}

// SetMeanBand turns on or off the mean ± std band across the chart's
// shown series: at every step where two or more of them have a point,
// their mean (drawn bold in the terminal's own colour, smoothed like the
// lines) and a faint band one population standard deviation either side.
// Hidden series are left out of it. It is how runs compared on one chart
// (seeds, coefficients) show their spread.
func (c *Chart) SetMeanBand(on bool) {
	if on != c.meanOn {
		c.meanOn = on
		c.rebuildMean()
		c.touch()
	}
}

// MeanBand returns, at every step where two or more shown series have a
// point, the step, the mean of their values and the population standard
// deviation (not smoothed): what the band is drawn from. Nil when the
// band is off.
func (c *Chart) MeanBand() (steps []int64, mean, std []float64) {
	if !c.meanOn {
		return nil, nil, nil
	}
	a := &c.acc
	for i := range a.steps {
		if a.n[i] >= 2 {
			steps = append(steps, a.steps[i])
			mean = append(mean, a.mean[i])
			std = append(std, a.std(i))
		}
	}
	return steps, mean, std
}

// accAdd folds a point of a shown series into the band.
func (c *Chart) accAdd(step int64, v float64) {
	i, moved := c.acc.add(step, v)
	if c.meanFrom < 0 || i < c.meanFrom {
		c.meanFrom = i
	}
	switch {
	case moved:
		c.meanGrew = true // the indices noted so far moved
	case c.acc.n[i] == 2:
		c.meanGrew = true // a step joins the band: its points are pushed again
	case !c.meanGrew && len(c.meanChanged) < 256:
		c.meanChanged = append(c.meanChanged, i)
	default:
		c.meanGrew = true // too many to update one by one
	}
}

// rebuildMean folds every point of the shown series in again (after a
// series was hidden or shown, or the band turned on).
func (c *Chart) rebuildMean() {
	c.acc = meanAcc{}
	c.mean, c.meanFrom, c.meanGrew = nil, -1, false
	if !c.meanOn {
		return
	}
	for _, s := range c.series {
		if s.hidden {
			continue
		}
		for k, st := range s.steps {
			c.accAdd(st, s.vals[k])
		}
	}
}

// syncMean brings the mean series up to date with acc. When no step
// joined the band since the last sync (the common case: a run adding
// steps others have), the points stay and only their values change, from
// the first step that changed on; otherwise the points from there on are
// pushed again. Either way what is derived from the points before it
// (smoothing, block summaries, band edges) is kept.
func (c *Chart) syncMean() {
	if c.mean == nil {
		c.mean = &series{name: "mean", smPow: 1, bandN: -1}
	}
	if c.meanFrom < 0 {
		return
	}
	a, m := &c.acc, c.mean
	cut := a.steps[c.meanFrom]
	k := sort.Search(len(m.steps), func(i int) bool { return m.steps[i] >= cut })
	if !c.meanGrew {
		// Only the steps that changed get new values.
		for _, i := range c.meanChanged {
			if a.n[i] < 2 {
				continue
			}
			j := sort.Search(len(m.steps), func(x int) bool { return m.steps[x] >= a.steps[i] })
			m.vals[j], m.spVals[j] = a.mean[i], a.std(i)
		}
		m.dropDerived(k)
	} else {
		m.truncate(k)
		for i := c.meanFrom; i < len(a.steps); i++ {
			if a.n[i] < 2 {
				continue
			}
			m.push(a.steps[i], a.mean[i])
			m.spSteps = append(m.spSteps, a.steps[i])
			m.spVals = append(m.spVals, a.std(i))
		}
	}
	c.meanFrom, c.meanGrew, c.meanChanged = -1, false, c.meanChanged[:0]
}

// truncate keeps the first k points of s (and what is derived from them:
// the running EMA, the block summaries, the band's edges) and drops the
// rest and their spread.
func (s *series) truncate(k int) {
	if k >= len(s.steps) {
		return
	}
	cut := s.steps[k]
	dense := len(s.spSteps) == len(s.steps)
	s.steps, s.vals = s.steps[:k], s.vals[:k]
	j := sort.Search(len(s.spSteps), func(i int) bool { return s.spSteps[i] >= cut })
	s.spSteps, s.spVals = s.spSteps[:j], s.spVals[:j]
	s.forget(k, dense)
}

// dropDerived forgets what is derived from the points from index k on,
// whose values (and spreads) changed in place, and extends the running
// EMA over them again.
func (s *series) dropDerived(k int) {
	if k >= len(s.steps) {
		return
	}
	current := len(s.sm) == len(s.vals)
	s.forget(k, len(s.spSteps) == len(s.steps))
	if current {
		for _, v := range s.vals[k:] {
			s.extendEMA(v)
		}
	}
}

// forget cuts the EMA, the block summaries and the band's edges back to
// the first k points, with their running states, so that they are
// extended from there. dense says a spread was recorded at every point:
// then the band's state at k is recovered from its edges, as the EMA's is;
// otherwise the band starts over.
func (s *series) forget(k int, dense bool) {
	if len(s.sm) > k {
		s.sm = s.sm[:k]
		s.smPow = math.Pow(s.smW, float64(k))
		s.smBiased = 0
		if k > 0 {
			s.smBiased = s.sm[k-1] * (1 - s.smPow)
		}
	}
	s.rawB.Truncate(k)
	s.smB.Truncate(k)
	if s.bandN <= k {
		return
	}
	switch w := s.bandW; {
	case !dense || k == 0 || w > 0 && len(s.sm) < k:
		s.bandN = -1
	default:
		s.bandLo, s.bandHi = s.bandLo[:k], s.bandHi[:k]
		s.loB.Truncate(k)
		s.hiB.Truncate(k)
		s.bandN, s.bandK = k, k-1
		if w > 0 {
			s.bandPow = math.Pow(w, float64(k))
			s.bandPrev = s.bandHi[k-1] - s.sm[k-1]
			s.bandBiased = s.bandPrev * (1 - s.bandPow)
		}
	}
}
