package sessions

import (
	"bytes"

	"github.com/pelletier/go-toml/v2"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Settings are the few settings of a run that its viewers show beside its
// records: the task its questions come from, the models, and the reward's
// coefficients in force.
type Settings struct {
	Task    string
	Teacher string
	Student string
	// Reward is the run's [reward] table, a key it lacks at its default
	// (RunReward), as the resume trains with it and rlt score --run
	// scores with it.
	Reward record.RewardConfig
	// RewardUnset are the keys of [reward] the file does not set (a hand
	// edit: every version wrote them all), which Reward holds at their
	// defaults (RunReward), for a viewer to say so; nil where it sets
	// them all, or is an import's.
	RewardUnset []string
	// Prompts are the prompts the run's rows were made with
	// (RowsPrompts: its [prompts]; an import's rows' student system
	// prompt, or the default student prompt where it records none), as
	// rlt score --run scores with them and the export writes the
	// student's; a field is empty where the file records none, or they
	// do not decode.
	Prompts record.Prompts
	// Known is false when config.toml does not parse (or is empty), or is
	// an imported run's (Imported): the fields are then the defaults and
	// the viewer must not claim them; and when its [reward] table holds a
	// value the engine refuses (Reward is then what the file says, not
	// what the run trained with).
	Known bool
	// UnknownKeys: opening found keys in config.toml the run's settings
	// have no place for (UnknownKeys, among Session.Problems), passed
	// over: the settings read past them stay Known, as rlt score --run
	// scores with them, but rlt run --resume refuses the file. Set by
	// Session.Settings only.
	UnknownKeys bool
	// Imported is the trainer an imported run came from (its config.toml
	// records the import, ImportSource.Format, not the trainer's
	// settings); "" for a run of ours.
	Imported string
	// ImportedReward is the reward an imported run's rows were ranked
	// with (ImportSource.Reward, [import.reward], the keys it lacks at
	// their defaults), nil where it records none, or one scoring refuses
	// (RewardConfig.Validate: rlt score --run says that one, with its
	// line, ImportedReward). Read by readImport, the one reader of an
	// import's config.toml, leniently, so that models a user added beside
	// [import] to score it with leave it read. Viewers show it as the
	// rows' reward, beside the run's that Reward is for a run of ours.
	ImportedReward *record.RewardConfig
	// ImportedRewardUnset are the keys of [import.reward] the file does
	// not set, which ImportedReward holds at their defaults (readImport),
	// as rlt score --run scores with and says them, for a viewer to say
	// so as it says RewardUnset of a run's [reward]; nil where it sets
	// them all, or records no reward.
	ImportedRewardUnset []string
}

// Settings reads the run's settings from config.toml leniently: keys it
// does not know are ignored (the strict check is the launcher's job, see
// DecodeStrict), so a folder written by another version still shows its
// task and coefficients.
func (r *Run) Settings() Settings { return ParseSettings(r.config) }

// ParseSettings reads Settings from the text of a config.toml.
func ParseSettings(text []byte) (s Settings) {
	s.Reward = record.DefaultRewardConfig()
	if len(bytes.TrimSpace(text)) == 0 {
		return s
	}
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		if recover() != nil {
			s = Settings{Reward: record.DefaultRewardConfig()}
		}
	}()
	v := struct {
		Task    string `toml:"task"`
		Teacher string `toml:"teacher"`
		Student string `toml:"student"`
	}{}
	err := toml.Unmarshal(text, &v)
	if im, ok := readImport(text); ok {
		// The models a user added to score it with stand; the reward is
		// the trainer's, not a [reward] of ours (its rows' reward_config,
		// where they record one, is ImportedReward: claimed, as a run's
		// [reward] is, only where scoring takes it). A value of the wrong
		// type leaves it an import (readImport), its models unread.
		s := Settings{Reward: record.DefaultRewardConfig(), Imported: im.src.Format}
		if err == nil {
			s.Task, s.Teacher, s.Student = v.Task, v.Teacher, v.Student
		}
		if rc := im.src.Reward; rc != nil && rc.Validate() == nil {
			s.ImportedReward, s.ImportedRewardUnset = rc, im.unset
		}
		s.Prompts, _ = rowsPrompts(text, &im.src)
		return s
	}
	if err != nil {
		return Settings{Reward: record.DefaultRewardConfig()}
	}
	// A [reward] table the engine would refuse (an edited file: a
	// temperature of 0, an unknown estimator) is not the one the run
	// trained with: its values are not claimed (a compared run's λ). A
	// key the table lacks is its default, as the resume trains with and
	// rlt score --run scores with (RunReward, their one reader).
	rc, unset, ok, err := RunReward(ConfigFile, text)
	s = Settings{Task: v.Task, Teacher: v.Teacher, Student: v.Student, Reward: rc, RewardUnset: unset, Known: ok && err == nil}
	s.Prompts, _ = rowsPrompts(text, nil)
	return s
}

// RowsPrompts are the system prompts the run's rows were made with, as its
// config.toml records them: the one reader of them for both rlt score
// --run, which scores with them (Settings.Prompts), and the export, which
// writes the student's (Run.StudentPrompt), so that an imported run
// re-scored is scored under the prompt its rows carried and are exported
// with, not the models' own. A run of ours: its [prompts]. An import:
// [prompts] where a user added one, else for the student the system
// prompt every Bespoke-Stratos row of a traces file carried ([import]
// student_system), else record.DefaultStudentSystem: an import that
// records none (flat rows, a trainer's folder, Stratos rows with several
// prompts) exports its rows with the default student prompt, the data a
// new student is distilled on, so a rescore scores them under it too,
// not under the models' own, which the export never writes. No import
// records a teacher prompt. A field is "" where the file records none
// (a run of ours: the models' own then score, and its export writes the
// student's, Run.StudentPrompt).
func RowsPrompts(text []byte) record.Prompts {
	p, _ := rowsPromptsOf(text)
	return p
}

// RowsStudentPrompt is RowsPrompts' student prompt for the run whose
// config.toml (text) is at path, and where it came from, in the words
// rlt score --run says it with beside its reward line: "PATH's [prompts]
// student_system", "PATH's [import] student_system, the system prompt
// every imported row carried", or the default student prompt of an
// import that records none. "" and "" where the file records none (a run
// of ours: the models' own then score).
func RowsStudentPrompt(path string, text []byte) (prompt, from string) {
	p, src := rowsPromptsOf(text)
	switch src {
	case promptOfRun:
		from = path + "'s [prompts] student_system"
	case promptOfImport:
		from = path + "'s [import] student_system, the system prompt every imported row carried"
	case promptOfDefault:
		from = "the default student prompt: " + path + "'s import records none, and its export writes it"
	}
	return p.StudentSystem, from
}

// promptOf is where RowsPrompts' student prompt came from.
type promptOf int

const (
	promptOfNone    promptOf = iota // the file records none
	promptOfRun                     // [prompts] student_system
	promptOfImport                  // [import] student_system
	promptOfDefault                 // record.DefaultStudentSystem: an import that records none
)

// rowsPromptsOf is RowsPrompts, with where its student prompt came from.
func rowsPromptsOf(text []byte) (record.Prompts, promptOf) {
	if im, ok := readImport(text); ok {
		return rowsPrompts(text, &im.src)
	}
	return rowsPrompts(text, nil)
}

// rowsPrompts is RowsPrompts with the import's [import] table read
// (nil: not an import), and where its student prompt came from.
// [prompts] is read apart, so that a prompt of the wrong type
// (ConfigTypes says it) leaves the rest read, as a [reward] one does.
func rowsPrompts(text []byte, im *ImportSource) (record.Prompts, promptOf) {
	var p struct {
		Prompts record.Prompts `toml:"prompts"`
	}
	if decodeLoose(text, &p) != nil {
		p.Prompts = record.Prompts{}
	}
	switch {
	case p.Prompts.StudentSystem != "":
		return p.Prompts, promptOfRun
	case im == nil:
		return p.Prompts, promptOfNone
	case im.StudentSystem != "":
		p.Prompts.StudentSystem = im.StudentSystem
		return p.Prompts, promptOfImport
	}
	p.Prompts.StudentSystem = record.DefaultStudentSystem
	return p.Prompts, promptOfDefault
}

// ShownDefaults are the keys of the reward ShownReward gives that the
// run's config.toml does not set, held at their defaults (RewardUnset of
// a run's [reward], ImportedRewardUnset of an import's rows' reward), for
// a viewer to say so beside their values, which the file does not hold:
// " (kl_max at its default)" alike for both; nil where it sets them all,
// or the defaults stand in for a reward not known. The rows' reward's
// were not said, its keys shown as though the file held them.
func (s Settings) ShownDefaults() []string {
	_, rows, ok := s.ShownReward()
	switch {
	case ok && rows:
		return s.ImportedRewardUnset
	case ok:
		return s.RewardUnset
	}
	return nil
}

// ShownReward is the reward a viewer shows for the run beside its
// records: its [reward] where Known (rows false); an import's rows'
// reward where it records one scoring takes (ImportedReward; rows true,
// to be labelled the rows' reward, not the run's); ok false where
// neither is known (the defaults stand in, not to be claimed).
func (s Settings) ShownReward() (rc record.RewardConfig, rows, ok bool) {
	switch {
	case s.Imported != "" && s.ImportedReward != nil:
		return *s.ImportedReward, true, true
	case s.Imported == "" && s.Known:
		return s.Reward, false, true
	}
	return s.Reward, false, false
}
