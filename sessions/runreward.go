package sessions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// A run's reward is read by one rule wherever it is read: a key its
// config.toml's [reward] table lacks is that key's default
// (record.DefaultRewardConfig), as rlt train --config and rlt run --config
// fill a [reward] they read, record.ParseRewardConfig a reward_config and
// readImport an [import.reward]. The resume trains with it (RecordedConfig),
// rlt score --run scores with it and Settings shows it (RunReward), so that
// the three never disagree; each says the keys so filled where the reward
// is said. A run's config.toml was read over nothing, so that a dropped
// kl_max resumed training, and was scored, at 0 while the viewers showed
// 0.03.
//
// The default is what such a run was started with. Every version of rlt
// has written all seven keys of [reward] into a run's config.toml (the
// resolved configuration, EncodeTOML of runconfig.Config, whose
// RewardConfig has had these seven keys, none omitempty, since its first
// commit, 906af87, the run folder's since 6472c5f), and their defaults have
// never changed: so no older run lacks a key that its version did not
// write, and a key a run's [reward] lacks was taken out by hand after the
// run began, which rlt run --config would have filled from the same
// default.

// rewardTable is the table of a run's config.toml its reward is in.
const rewardTable = "reward"

// RecordedConfig is the configuration a run folder's config.toml is
// decoded over to resume it: every key at its type's zero value (the file
// records every key as the run was started, so a key it lacks is said as
// 0, UnsetIsZero), but [reward]'s at their defaults, by the one rule of a
// run's reward (RunReward).
func RecordedConfig() runconfig.Config {
	return runconfig.Config{Reward: record.DefaultRewardConfig()}
}

// RunReward is the reward a run's config.toml (the text data, read from
// path, which is for messages) records in [reward] as every reader takes
// it: a key the table lacks (or the whole table) at its default, unset
// naming those keys for the caller to say. A value the engine refuses
// (RewardConfig.Validate: a temperature of 0, an unknown estimator) is
// err: each problem a *ConfigError at its key's line in path, its key
// reward.KEY; rc is then what the file says, so that a flag given for
// the key can stand in for it. A file that does not decode (a syntax
// error, a value of the wrong type: ConfigSyntax and ConfigTypes say
// those) leaves rc at the defaults, unset nil, and ok false: nothing of
// it is known.
func RunReward(path string, data []byte) (rc record.RewardConfig, unset []string, ok bool, err error) {
	v := struct {
		Reward record.RewardConfig `toml:"reward"`
	}{Reward: RecordedConfig().Reward}
	if decodeLoose(data, &v) != nil {
		return record.DefaultRewardConfig(), nil, false, nil
	}
	return v.Reward, unsetRewardKeys(scanTOMLKeys(data), rewardTable), true, rewardTableProblems(path, data, rewardTable, v.Reward)
}

// unsetRewardKeys are the keys of the reward table (rewardTable, or
// importRewardTable) that keys, a config.toml scanned, does not set, in
// RewardConfig's order.
func unsetRewardKeys(keys tomlKeys, table string) []string {
	var unset []string
	for _, k := range rewardKeys {
		if _, set := keys.value(table + "." + k); !set {
			unset = append(unset, k)
		}
	}
	return unset
}

// rewardTableProblems are rc's Validate problems, read from the reward
// table (rewardTable, or importRewardTable) of data (the text of path),
// each at its key's line, its key below table; nil where there are none.
func rewardTableProblems(path string, data []byte, table string, rc record.RewardConfig) error {
	var problems []error
	for _, p := range configkey.Problems(rc.Validate()) {
		var ke *configkey.Error
		if errors.As(p, &ke) {
			// Validate keys them below [reward], a run's table.
			_, name, _ := configkey.Split(ke.Key)
			p = &configkey.Error{Key: table + "." + name, Err: ke.Err}
		}
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		return nil
	}
	var located []error
	for _, ce := range LocateValidations(path, data, errors.Join(problems...)) {
		located = append(located, ce)
	}
	return errors.Join(located...)
}

// UnsetRewardNote says the keys a run's config.toml (data, read from
// path) leaves out of its [reward], which the resume trains with at their
// defaults (RunReward): "RUN/config.toml's [reward] does not set kl_max,
// so the run trains with its default: kl_max 0.03". "" where it sets them
// all, or does not decode (ConfigSyntax's and the resume's check's to say).
func UnsetRewardNote(path string, data []byte) string {
	rc, unset, ok, _ := RunReward(path, data)
	if !ok || len(unset) == 0 {
		return ""
	}
	var said []string
	for _, k := range unset {
		v, _ := rc.ValueText(k) // a key of rewardKeys: RewardConfig's own
		said = append(said, k+" "+v)
	}
	keys := unset[0]
	if len(unset) > 1 {
		keys = strings.Join(unset[:len(unset)-1], ", ") + " or " + unset[len(unset)-1]
	}
	return fmt.Sprintf("%s's [reward] does not set %s, so the run trains with %s: %s", path, keys, Defaults(len(unset)), strings.Join(said, ", "))
}

// Defaults names the defaults of n reward keys a file does not set, in the
// number they take: "its default" for one, "their defaults" for several;
// the one wording of the resume's note (UnsetRewardNote), rlt score's
// reward line and the viewers' legends, which said "at their defaults:
// kl_max 0.03" of one key where the resume said "its default".
func Defaults(n int) string {
	if n == 1 {
		return "its default"
	}
	return "their defaults"
}
