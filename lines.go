package main

import "github.com/rlt-workbench/rlt/engine/jsonerr"

// linesShown is how many of an input's lines a note names: the first,
// then that there are more.
const linesShown = 10

// firstLines is the lines of an input that one note is of (rlt score's
// rows scored marked "cut", rlt distill's rows left out as not kept or as
// a question again): how many, and the first linesShown of them, all the
// note says. Only those are kept: a stdin of millions of such lines grew
// a list by each while the note named ten.
type firstLines struct {
	n     int
	first []int
}

func (l *firstLines) add(line int) {
	l.n++
	if len(l.first) < linesShown {
		l.first = append(l.first, line)
	}
}

// String is the lines as a note names them: "line 3", or "lines 3, 5, 7",
// with ", …" after the first linesShown where there are more.
func (l firstLines) String() string {
	return jsonerr.Lines(l.first, l.n)
}
