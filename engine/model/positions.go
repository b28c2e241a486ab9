package model

import "fmt"

// Name is how a refusal of a sequence past a model's positions names the
// model who ("teacher", "student", "policy", "model"): "the teacher", then
// its folder, or how it is known where it has none (an inference server's
// URL), where dir says. Every such refusal names its model so, from the
// model's own forward (PositionsError) to engine/rlt's (RoomError,
// TooLongError) and a run's checks of its prompts (engine/run); this
// package, which all of them import, owns the wording.
func Name(who, dir string) string {
	if dir == "" {
		return "the " + who
	}
	return "the " + who + " " + dir
}

// ItsPositions is how such a refusal names the positions of the model it
// speaks of: "its 256 positions (max_position_embeddings)", the key of
// config.json that sets them.
func ItsPositions(n int) string {
	return fmt.Sprintf("its %d positions (max_position_embeddings)", n)
}

// PositionsError is a sequence that does not fit a model's positions,
// said in the words every refusal past them shares: the model (Name),
// what did not fit and its tokens, by how much, its positions
// (ItsPositions), and what to do:
//
//	the model /m: prompt 1 takes 300 tokens, 45 more than fit in its 256 positions (max_position_embeddings) beside a new token: give prompts of at most 255 tokens
//	the model /m: prompt 1 takes 256 tokens, which leaves no room for a new token in its 256 positions (max_position_embeddings): give prompts of at most 255 tokens
//
// A sequence that must leave a position for what follows it (Leave) is
// past them by how much it passes Do's length, one position short of
// them, so that the two numbers agree (300 is 45 more than 255): it said
// "44 more than its 256 positions", then "at most 255". The second fits
// them but leaves no position for what must follow.
type PositionsError struct {
	Model string // as Name says it
	// What is the sequence, as the sentence's subject: "prompt 1", "its
	// prompt for the question \"2+2=?\"".
	What              string
	Tokens, Positions int
	// Leave is what the sequence must leave at least one position for ("a
	// new token"); "" where it need only fit.
	Leave string
	Do    string // what to do, with the length that would fit
}

func (e *PositionsError) Error() string {
	past := fmt.Sprintf("%d more than %s", e.Tokens-e.Positions, ItsPositions(e.Positions))
	switch {
	case e.Leave == "":
	case e.Tokens <= e.Positions:
		past = fmt.Sprintf("which leaves no room for %s in %s", e.Leave, ItsPositions(e.Positions))
	default:
		past = fmt.Sprintf("%d more than fit in %s beside %s", e.Tokens-e.Positions+1, ItsPositions(e.Positions), e.Leave)
	}
	return fmt.Sprintf("%s: %s takes %d tokens, %s: %s", e.Model, e.What, e.Tokens, past, e.Do)
}
