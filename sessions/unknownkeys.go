package sessions

import (
	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/record"
)

// UnknownKeys are the keys of a run's config.toml (data, read from path,
// which is for messages) that its settings have no place for, each a
// *ConfigError at its line, in line order: `PATH:7:1: unknown key "kl_mx"
// in [reward] (known: …)`; nil where there are none. Beside a syntax
// error or a mistyped value (ConfigSyntax and ConfigTypes say those) they
// are those DecodeStrict finds past them.
//
// The one rule of them, wherever a run's settings are read: an unknown key
// (another version's, a typo) is passed over and the rest of the file
// read, as Settings, RunReward and RowsPrompts read it; the readers say
// it, ignored (rlt score --run on stderr, the workbench among the run's
// problems), and a run whose only problems are such keys keeps its
// settings Known (Session.Settings). Only rlt run --resume refuses them
// (DecodeStrict), as it refuses any key it cannot train with. A run of
// ours has runconfig.Config's keys; an import the [import] table rlt
// import writes, and the models, task and [prompts] a user may add to
// score it with (Settings reads them).
func UnknownKeys(path string, data []byte) []*ConfigError {
	var err error
	if _, ok := readImport(data); ok {
		var v importSettings
		err = DecodeStrict(path, data, &v)
	} else {
		v := RecordedConfig()
		err = DecodeStrict(path, data, &v)
	}
	var unknown []*ConfigError
	for _, p := range configkey.Problems(err) {
		if ce, ok := p.(*ConfigError); ok && ce.UnknownKey() {
			unknown = append(unknown, ce)
		}
	}
	return unknown
}

// importSettings are the keys an imported run's config.toml may hold:
// ImportConfig's, and those a user adds to score the run with, which
// Settings reads.
type importSettings struct {
	Task    string         `toml:"task"`
	Teacher string         `toml:"teacher"`
	Student string         `toml:"student"`
	Prompts record.Prompts `toml:"prompts"`
	Import  ImportSource   `toml:"import"`
}

// UnknownKey reports whether e is a key the configuration has no place
// for (UnknownKeys): the other keys of its file are read past it.
func (e *ConfigError) UnknownKey() bool { return e.kind == unknownKey }

// OnlyUnknownKeys reports whether err, a strict decode's of a run's
// config.toml (DecodeStrict, Run.DecodeConfig), holds problems and each
// is an unknown key: the rest of the file was decoded, and the run's
// settings are read past them (UnknownKeys' rule).
func OnlyUnknownKeys(err error) bool {
	leaves := problemLeaves(err)
	for _, p := range leaves {
		if ce, ok := p.(*ConfigError); !ok || !ce.UnknownKey() {
			return false
		}
	}
	return len(leaves) > 0
}
