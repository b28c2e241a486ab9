// Package lambda says a run's λ, the weight of the mean d_k in r_KL
// (config.toml's reward.kl_mean), in the one wording that the workbench's
// comparison legend, rlt report's run table and rlt sessions' λ column
// share, so that a sweep of λ reads the same in all: "λ=3", an import's
// rows' "rows' λ=3", "λ=3 (kl_mean at its default)" where config.toml
// leaves the key out, "λ=?" where it is not known. It sits under sessions
// (it reads sessions.Settings) so that the root package's rlt sessions,
// which may not import ui's internal packages, says it too.
package lambda

import (
	"slices"
	"strconv"

	"github.com/rlt-workbench/rlt/sessions"
)

// Lambda is a run's λ as its settings give it (sessions.Settings.ShownReward).
type Lambda struct {
	Value float64
	// Known: read from the run's config.toml, or from the reward an
	// import's rows were ranked with; false where neither is known (Value
	// is then the default, not to be claimed).
	Known bool
	// Rows: the import's rows' λ, not a run's own.
	Rows bool
	// AtDefault: config.toml's [reward] leaves kl_mean out (a hand edit),
	// so Value is its default, as the run resumes and is scored with.
	AtDefault bool
}

// Of is the λ of the run whose settings are st.
func Of(st sessions.Settings) Lambda {
	rc, rows, known := st.ShownReward()
	return Lambda{Value: rc.KLMean, Known: known, Rows: rows, AtDefault: known && slices.Contains(st.ShownDefaults(), "kl_mean")}
}

// String is "λ=3", "rows' λ=3", "λ=3 (kl_mean at its default)", or "λ=?"
// where it is not known.
func (l Lambda) String() string {
	if !l.Known {
		return "λ=?"
	}
	s := "λ=" + strconv.FormatFloat(l.Value, 'g', -1, 64)
	if l.Rows {
		s = "rows' " + s
	}
	if l.AtDefault {
		s += " (kl_mean at " + sessions.Defaults(1) + ")"
	}
	return s
}

// Differ reports whether ls are not all the same λ (value, known, the
// rows' or a run's), so that a legend names each run's.
func Differ(ls []Lambda) bool {
	for _, l := range ls[min(1, len(ls)):] {
		if l.Known != ls[0].Known || l.Value != ls[0].Value || l.Rows != ls[0].Rows {
			return true
		}
	}
	return false
}
