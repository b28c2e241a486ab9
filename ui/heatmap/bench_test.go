package heatmap

import (
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

func benchHeatmap(b *testing.B, p style.Profile, relayout bool) {
	toks, vals := sample(2000)
	h := New(style.NewTheme(p))
	h.SetTokens(toks, vals)
	h.SetMarks(77)
	h.SetCursor(1000)
	h.SetSize(120, 40)
	_ = h.View()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if relayout {
			h.touchLayout() // wrap again, as after a resize
		}
		h.viewValid = false
		_ = h.Lines(120) // all 2,000 tokens, not only the visible window
	}
}

// 2,000 tokens at 120 columns: wrap and colour every line.
func BenchmarkHeatmap2000(b *testing.B)           { benchHeatmap(b, style.TrueColor, true) }
func BenchmarkHeatmap2000NoRelayout(b *testing.B) { benchHeatmap(b, style.TrueColor, false) }
func BenchmarkHeatmap2000Plain(b *testing.B)      { benchHeatmap(b, style.Plain, true) }

// The windowed view (legend + 40 rows) with the cursor moving.
func BenchmarkHeatmap2000View(b *testing.B) {
	toks, vals := sample(2000)
	h := New(style.NewTheme(style.TrueColor))
	h.SetTokens(toks, vals)
	h.SetSize(120, 40)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.SetCursor(i % 2000)
		_ = h.View()
	}
}

func BenchmarkSetTokens2000(b *testing.B) {
	toks, vals := sample(2000)
	h := New(style.NewTheme(style.TrueColor))
	for i := 0; i < b.N; i++ {
		h.SetTokens(toks, vals)
	}
}
