package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// RecordSteps records in the run's config.toml that the run now plans
// steps steps (its top-level steps key; 0 runs until stopped), as `rlt run
// --resume DIR --steps N` asks: the plan on record is what listings, `rlt
// sessions`, the workbench's header (StepsLabel, configPlan) and a later
// resume without --steps go by, so it must not stay the plan the run was
// started with. Only the value of steps changes, or a steps line is added
// above the first table; the user's comments and layout stay, and the
// file is replaced atomically (durable.WriteFile), as Create writes it. A
// rewrite that would change any other key is refused, and the file is
// left as it was. Call it before the run's session is shared: ConfigText
// then reads the new text.
func (r *Run) RecordSteps(steps int) error {
	if r.readOnly {
		return fmt.Errorf("record the planned steps of %s: the run is open read-only", r.dir)
	}
	if err := r.Begin(); err != nil { // a deferred open's first write begins the session
		return fmt.Errorf("record the planned steps of %s: %w", r.dir, err)
	}
	path := filepath.Join(r.dir, ConfigFile)
	data, err := withSteps(r.config, steps)
	if err != nil {
		return fmt.Errorf("record the planned steps in %s: %w", path, err)
	}
	if bytes.Equal(data, r.config) {
		return nil
	}
	if err := durable.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("record the planned steps: %w", err)
	}
	r.config = data
	// A workbench following the run read its plan from config.toml when
	// it opened the run; the event tells it the new one.
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindPlan, Count: steps})
	return nil
}

// withSteps is the TOML text data with its top-level steps key set to
// steps: its value replaced where the text sets it, else a line added at
// the start (where a top-level key is always at the top level). The
// result is checked to decode as data did, but for steps.
func withSteps(data []byte, steps int) ([]byte, error) {
	value := strconv.Itoa(steps)
	var out []byte
	if at, ok := scanTOMLKeys(data).value("steps"); ok {
		start, end := int(at.value.Offset), int(at.value.Offset+at.value.Length)
		if at.value.Length == 0 || end > len(data) {
			return nil, errors.New("its steps key has no value to replace")
		}
		out = append(append(append(out, data[:start]...), value...), data[end:]...)
	} else {
		out = append([]byte("steps = "+value+"\n"), data...)
	}
	before, err := decodeTOMLDocument(data)
	if err != nil {
		return nil, err
	}
	after, err := decodeTOMLDocument(out)
	if err != nil {
		return nil, fmt.Errorf("setting steps would break it: %w", err)
	}
	var got any
	for k, v := range after {
		if strings.EqualFold(k, "steps") {
			got = v
		}
	}
	if n, ok := got.(int64); !ok || n != int64(steps) {
		return nil, fmt.Errorf("setting steps to %d reads back as %v", steps, got)
	}
	for _, doc := range []map[string]any{before, after} {
		for k := range doc {
			if strings.EqualFold(k, "steps") {
				delete(doc, k)
			}
		}
	}
	if !reflect.DeepEqual(before, after) {
		return nil, errors.New("setting steps would change other keys")
	}
	return out, nil
}

// decodeTOMLDocument decodes data as a generic TOML document.
func decodeTOMLDocument(data []byte) (doc map[string]any, err error) {
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		if r := recover(); r != nil {
			err = fmt.Errorf("toml: panic: %v", r)
		}
	}()
	err = toml.Unmarshal(data, &doc)
	return doc, err
}
