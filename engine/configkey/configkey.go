// Package configkey is the one error type for a problem with a run
// configuration's value: the key it is about travels as data beside the
// words, so that whoever shows the problem (the workbench's editor under
// the key's line, `rlt run --config FILE` as FILE:LINE:COL, or as the
// command-line flag that set the key) need not guess the key from the
// message. It imports only the standard library, so every validator in
// engine can return it and sessions can read it without linking compute.
package configkey

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem with the value of one configuration key.
type Error struct {
	// Key is the dotted TOML key path the problem is about, as config.toml
	// spells it: "steps", "grpo.temperature", "reward.estimator".
	Key string
	// Err is the problem in words; they begin with the key's last part
	// where it reads well ("temperature 0 must be a finite positive
	// number"), which Error makes the key's path.
	Err error
}

// Error is the problem with the key named by its dotted path, as TOML
// writes it, whatever table the key is in: words that begin with the key's
// last part ("temperature 0 must be …") have it replaced by the path
// ("grpo.temperature 0 must be …"), other words follow it ("grpo.x: …").
// The path says which of the tables that share key names (temperature is
// in [grpo] and [reward]) the key is in; a top-level key's path is its
// name, so its words stand as they are (they name the key, or its value).
func (e *Error) Error() string {
	if _, _, ok := Split(e.Key); !ok {
		return e.Err.Error()
	}
	return e.Named(e.Key)
}

// Named is the problem said of label, put where Error puts the key's
// path: words that begin with the key's last part have it replaced
// ("--temperature 0 must be …" for label "--temperature"), other words
// follow it ("--estimator: …"). A command says a flag's value so.
func (e *Error) Named(label string) string {
	words := e.Err.Error()
	name := e.Key
	if _, last, ok := Split(e.Key); ok {
		name = last
	}
	if rest, found := strings.CutPrefix(words, name); found && (rest == "" || rest[0] == ' ' || rest[0] == ':') {
		return label + rest
	}
	return label + ": " + words
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf is the problem fmt.Errorf(format, a...) with key.
func Errorf(key, format string, a ...any) *Error {
	return &Error{Key: key, Err: fmt.Errorf(format, a...)}
}

// Wrap gives err, a check's problem that cannot know which key its value
// was read from (a device name, a data file), the key; nil stays nil.
func Wrap(key string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Key: key, Err: err}
}

// Of is the key err (or an error it wraps) is about, and false for an
// error about no key.
func Of(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Key, true
	}
	return "", false
}

// Split parts a key path into its table and its last key ("grpo.lr" is
// "grpo" and "lr"); a top-level key has no table (ok false).
func Split(key string) (table, name string, ok bool) {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return "", key, false
	}
	return key[:i], key[i+1:], true
}

// Problems are the errors errors.Join put together in err, nested joins
// included, in order; err alone when it is no join, none when nil. A
// validator joins its problems, and a caller that validates several parts
// joins theirs again: each problem is then one of these.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, Problems(e)...)
	}
	return out
}
