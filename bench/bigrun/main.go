// Command bigrun writes a large run folder through the real writer
// (sessions.Create and Run.Emit), with synthetic metrics and scored traces,
// for measuring how the workbench, rlt report and rlt export open big runs
// (bench/open_memory.sh). Its traces' tokens and numbers are random; only
// their sizes are meant to be realistic.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

var words = []string{"The", "Ġsum", "Ġof", "Ġdigits", "Ġis", "Ġcarry", "Ġ1", "Ġ2", "Ġ3", "Ġ4", "Ġ5", "Ġso", "Ġwe",
	"Ġadd", "Ġthe", "Ġnext", "Ġcolumn", ",", ".", "Ċ", "Ġ=", "Ġ+", "Ġtens", "Ġones"}

var metricNames = []string{"answer_log_prob_mean", "answer_log_prob_min", "clip_fraction", "completion_length",
	"explanation_length", "format_penalty_rate", "grad_norm", "kl", "kl_reward", "learning_rate", "loss",
	"match_reward", "memory_host_gib", "memory_host_peak_gib", "no_entropy_kl_reward", "reasoning_kl_max",
	"reasoning_kl_mean", "ref_synced", "reward", "reward_std", "sampled_tokens_per_s", "solution_log_prob_reward",
	"step_time_s", "time_optimise_s", "time_sample_s", "time_score_s", "total_teacher_likelihood_reward",
	"zero_variance_share"}

func main() {
	dir := flag.String("dir", "", "the run folder to create (must not exist)")
	steps := flag.Int("steps", 1000, "steps")
	per := flag.Int("traces", 32, "traces per step (groups of 8)")
	tokens := flag.Int("tokens", 200, "mean explanation tokens of a trace")
	long := flag.Int("long", 0, "make one trace a step this many tokens long (0: none)")
	every := flag.Duration("every", 0, "wait between steps, as a live run does (0: write at once)")
	accept := flag.Int("accept", 0, "accept every Nth trace in review, for rlt export to have rows (0: none)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("bigrun: -dir is required")
	}
	cfg := run.DefaultConfig("teacher", "student")
	cfg.Steps = *steps
	r, err := sessions.Create(*dir, cfg)
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	t0 := time.Now().Add(-time.Duration(*steps) * 2 * time.Second)
	for s := 0; s < *steps; s++ {
		now := t0.Add(time.Duration(s) * 2 * time.Second)
		if *every > 0 {
			now = time.Now()
		}
		vals := map[string]float64{}
		for i, k := range metricNames {
			vals[k] = math.Sin(float64(s)/50+float64(i)) + rng.NormFloat64()*0.1
		}
		vals["reward"] = -10 + 8*float64(s)/float64(*steps) + rng.NormFloat64()
		r.Emit(event.Metrics{Time: now, Step: s, Values: vals})
		for k := 0; k < *per; k++ {
			n := *tokens/2 + rng.Intn(*tokens+1)
			if *long > 0 && k == 0 {
				n = *long
			}
			r.Emit(trace(rng, now, s, k, n))
		}
		if err := r.Flush(); err != nil {
			log.Fatal(err)
		}
		time.Sleep(*every)
	}
	if *accept > 0 {
		ts, _ := r.Store().TracesSince(0)
		for i := 0; i < len(ts); i += *accept {
			if err := r.Review(ts[i].ID, sessions.LabelAccept, ""); err != nil {
				log.Fatal(err)
			}
		}
	}
	if err := r.Close(); err != nil {
		log.Fatal(err)
	}
}

// trace is sample k of step s: n random tokens, scored as the engine would.
func trace(rng *rand.Rand, now time.Time, s, k, n int) event.Trace {
	sc := &record.Scored{Ended: rng.Intn(10) != 0}
	sc.ExplanationTokens = make([]string, n)
	sc.ExplanationIDs = make([]int32, n)
	sc.TeacherLP = make([]float32, n)
	sc.StudentLP = make([]float32, n)
	sc.D = make([]float32, n)
	var comp []byte
	for j := 0; j < n; j++ {
		w := rng.Intn(len(words))
		sc.ExplanationTokens[j] = words[w]
		sc.ExplanationIDs[j] = int32(w + 10)
		sc.TeacherLP[j] = -rng.Float32() * 3
		sc.StudentLP[j] = -rng.Float32() * 5
		sc.D[j] = sc.TeacherLP[j] - sc.StudentLP[j]
		comp = append(comp, words[w]...)
	}
	sc.SolutionTokens, sc.SolutionIDs = []string{"5", "7"}, []int32{5, 7}
	sc.SolutionLP = []float32{-0.1, -0.3 * rng.Float32()}
	sc.Terms = record.DefaultRewardConfig().Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	return event.Trace{Time: now, Step: s, Group: k / 8, Sample: k % 8, Question: fmt.Sprintf("%d+%d=?", s, k/8),
		Solution: "57", Completion: string(comp) + record.EndExplanation, Advantage: rng.NormFloat64(), Score: sc,
		Reconstruction: "57"}
}
