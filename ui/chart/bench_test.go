package chart

import (
	"fmt"
	"math"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

func benchChart(b *testing.B, p style.Profile, smoothing float64) {
	benchChartWith(b, p, smoothing, false)
}

func benchChartWith(b *testing.B, p style.Profile, smoothing float64, band bool) {
	c := New(style.NewTheme(p))
	c.SetMeanBand(band)
	r := lcg(3)
	for s := 0; s < 8; s++ {
		name := fmt.Sprintf("metric/%d", s)
		for i := 0; i < 10000; i++ {
			c.Append(name, int64(i), float64(s)+math.Sin(float64(i)/500)+0.3*r.next())
		}
	}
	c.SetTitle("bench")
	c.SetSmoothing(smoothing)
	c.SetSize(120, 40)
	_ = c.View()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.touch() // a full frame every time, as after new data
		_ = c.View()
	}
}

// One full frame: 8 series × 10k points at 120×40.
func BenchmarkFrame8x10k(b *testing.B)         { benchChart(b, style.TrueColor, 0) }
func BenchmarkFrame8x10kSmoothed(b *testing.B) { benchChart(b, style.TrueColor, 0.6) }
func BenchmarkFrame8x10kPlain(b *testing.B)    { benchChart(b, style.Plain, 0) }

// The 8 series as 8 runs compared: smoothed, with their mean ± std band.
func BenchmarkFrame8x10kMeanBand(b *testing.B) { benchChartWith(b, style.TrueColor, 0.6, true) }
func BenchmarkFrame8x10kCached(b *testing.B) {
	c := New(style.NewTheme(style.TrueColor))
	for s := 0; s < 8; s++ {
		for i := 0; i < 10000; i++ {
			c.Append(fmt.Sprint(s), int64(i), float64(i%97))
		}
	}
	c.SetSize(120, 40)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.View()
	}
}

// Appending one point to each of 8 series and drawing the frame, as the
// UI does at ~20 Hz while following a run.
func BenchmarkAppendAndFrame(b *testing.B) {
	c := New(style.NewTheme(style.TrueColor))
	for s := 0; s < 8; s++ {
		for i := 0; i < 10000; i++ {
			c.Append(fmt.Sprint(s), int64(i), float64(i%97))
		}
	}
	c.SetSmoothing(0.6)
	c.SetSize(120, 40)
	names := c.Series()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range names {
			c.Append(n, int64(10000+i), float64(i%13))
		}
		_ = c.View()
	}
}
