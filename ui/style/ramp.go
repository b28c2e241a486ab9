package style

import (
	"math"

	colorful "github.com/lucasb-eyer/go-colorful"
)

// Neutral is the centre of the diverging ramp and the low end of the
// sequential one: an off-white that black text reads on.
var Neutral = Hex("#F7F7F7")

// Ramp ends. Blue ↔ white ↔ vermillion is the Okabe–Ito pair that stays
// apart under deuteranopia, protanopia and tritanopia; lightness carries
// magnitude, hue carries sign.
var (
	DivergingLow  = Blue       // most negative
	DivergingHigh = Vermillion // most positive
	SequentialMid = Orange
	SequentialEnd = Hex("#9A3A00")
)

func toColorful(c Color) colorful.Color {
	return colorful.Color{R: float64(c.R) / 255, G: float64(c.G) / 255, B: float64(c.B) / 255}
}

func fromColorful(c colorful.Color) Color {
	r, g, b := c.Clamped().RGB255()
	return Color{r, g, b}
}

func blend(a, b Color, t float64) Color {
	return fromColorful(toColorful(a).BlendLab(toColorful(b), t))
}

// Diverging maps t in [-1, 1] (clamped) to the diverging ramp: 0 is
// Neutral, negative values go to blue, positive to vermillion. NaN gives
// Neutral.
func Diverging(t float64) Color {
	switch {
	case math.IsNaN(t) || t == 0:
		return Neutral
	case t < 0:
		return blend(Neutral, DivergingLow, math.Min(-t, 1))
	default:
		return blend(Neutral, DivergingHigh, math.Min(t, 1))
	}
}

// Sequential maps t in [0, 1] (clamped) to the sequential ramp from
// Neutral through orange to a dark vermillion. NaN gives Neutral.
func Sequential(t float64) Color {
	switch {
	case math.IsNaN(t) || t <= 0:
		return Neutral
	case t < 0.5:
		return blend(Neutral, SequentialMid, t*2)
	default:
		return blend(SequentialMid, SequentialEnd, math.Min((t-0.5)*2, 1))
	}
}
