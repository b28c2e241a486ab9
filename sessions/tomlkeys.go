package sessions

import (
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// tomlKeys is where a TOML document writes its keys, as go-toml's own
// parser reads it (its unstable package: the same module and version the
// decoder is, so no second reading of TOML can disagree with the one that
// decoded the file). Strings holding '#', '=' or '[', multi-line strings
// and arrays, comments after a table header, dotted keys and inline tables
// are all the parser's business, not line heuristics'.
type tomlKeys struct {
	// set maps the full dotted path of every key given a value
	// ("grpo.lr", whether written under [grpo], as grpo.lr = … or in
	// grpo = { lr = … }) to where the first such value is.
	set map[string]tomlValueAt
	// tables maps every table path to the first line that opens it: its
	// [header], or the line of a dotted key or inline table that implies
	// it.
	tables map[string]int
}

// tomlValueAt is where a key's value is written.
type tomlValueAt struct {
	line  int            // 1-based line of the key's first part
	value unstable.Range // the value's bytes (a scalar's whole text)
	kind  unstable.Kind  // what TOML value it is: String, Integer, …
}

// scanTOMLKeys reads the key structure of data. A document the parser
// stops in (a syntax error) keeps what came before the error: a caller
// locating a problem still gets the lines that precede it.
func scanTOMLKeys(data []byte) (k tomlKeys) {
	k = tomlKeys{set: map[string]tomlValueAt{}, tables: map[string]int{}}
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		_ = recover()
	}()
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var line int
			table, line = keyParts(&p, e.Key())
			k.define(table, line)
		case unstable.KeyValue:
			k.keyValue(&p, table, e)
		}
	}
	return k
}

// keyValue records the key-value kv written in table, and the keys of an
// inline table it holds.
func (k tomlKeys) keyValue(p *unstable.Parser, table []string, kv *unstable.Node) {
	parts, line := keyParts(p, kv.Key())
	if len(parts) == 0 {
		return
	}
	path := append(append(make([]string, 0, len(table)+len(parts)), table...), parts...)
	// grpo.sampling.temperature = … opens grpo and grpo.sampling here.
	k.define(path[:len(path)-1], line)
	value := kv.Value()
	name := strings.Join(path, ".")
	if _, seen := k.set[name]; !seen {
		k.set[name] = tomlValueAt{line: line, value: value.Raw, kind: value.Kind}
	}
	if value.Kind == unstable.InlineTable {
		k.define(path, line)
		it := value.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				k.keyValue(p, path, c)
			}
		}
	}
}

// define records that line opens the table path and the tables above it,
// where no earlier line did.
func (k tomlKeys) define(path []string, line int) {
	for i := 1; i <= len(path); i++ {
		name := strings.Join(path[:i], ".")
		if _, seen := k.tables[name]; !seen {
			k.tables[name] = line
		}
	}
}

// keyParts are a key's parts, decoded (quotes gone), and the line of its
// first part.
func keyParts(p *unstable.Parser, it unstable.Iterator) (parts []string, line int) {
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
		parts = append(parts, string(n.Data))
	}
	return parts, line
}

// value is where the key path is given a value: the exact spelling first,
// then one that differs only in case, as go-toml decodes "LR" into the
// field tagged "lr".
func (k tomlKeys) value(path string) (tomlValueAt, bool) {
	if at, ok := k.set[path]; ok {
		return at, true
	}
	var best tomlValueAt
	found := false
	for name, at := range k.set {
		if strings.EqualFold(name, path) && (!found || at.line < best.line) {
			best, found = at, true
		}
	}
	return best, found
}

// table is the first line that opens the table path (0: none does), in
// any spelling of its case.
func (k tomlKeys) table(path string) int {
	if line, ok := k.tables[path]; ok {
		return line
	}
	best := 0
	for name, line := range k.tables {
		if strings.EqualFold(name, path) && (best == 0 || line < best) {
			best = line
		}
	}
	return best
}

// line is KeyLine on a scanned document.
func (k tomlKeys) line(table, key string) (int, bool) {
	path := key
	if table != "" {
		path = table + "." + key
	}
	if key != "" {
		if at, ok := k.value(path); ok {
			return at.line, true
		}
	}
	if table == "" {
		return 0, false
	}
	return k.table(table), false
}
