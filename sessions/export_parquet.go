package sessions

import (
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/rlt-workbench/rlt/engine/record"
)

// chatTurn and chatRow are a messages row in Parquet: a "messages" column,
// a list of {role, content}, the schema verl's multi-turn SFT dataset reads
// (pandas.read_parquet, then its messages_key, "messages", by default:
// verl/utils/dataset/multiturn_sft_dataset.py), which reads Parquet only,
// and TRL's SFTTrainer through load_dataset("parquet", …).
type chatTurn struct {
	Role    string `parquet:"role"`
	Content string `parquet:"content"`
}

type chatRow struct {
	Messages []chatTurn `parquet:"messages,list"`
}

// parquetMessages writes the rows of ExportParquet: ExportMessages' rows,
// checked as they are, in one Parquet file whose footer Close writes.
type parquetMessages struct {
	check  *record.StratosWriter // refuses what the JSON Lines rows refuse
	system string
	pw     *parquet.GenericWriter[chatRow]
}

func newParquetMessages(w io.Writer, system string) *parquetMessages {
	return &parquetMessages{
		check:  record.NewMessagesWriter(io.Discard, system),
		system: system,
		pw:     parquet.NewGenericWriter[chatRow](w),
	}
}

// Write adds one row; it refuses (adding nothing) what Check refuses.
func (p *parquetMessages) Write(question, explanation, solution string) error {
	if err := p.check.Check(question, explanation, solution); err != nil {
		return err
	}
	// The JSON Lines rows' turns: no system turn for an empty prompt.
	turns := record.MessagesTurns(p.system, question, record.StratosAssistant(explanation, solution))
	row := chatRow{Messages: make([]chatTurn, len(turns))}
	for i, m := range turns {
		row.Messages[i] = chatTurn{Role: m.Role, Content: utf8Text(m.Content)}
	}
	_, err := p.pw.Write([]chatRow{row})
	return err
}

// Close writes the rows still buffered and the file's footer.
func (p *parquetMessages) Close() error { return p.pw.Close() }

// utf8Text is s as the JSON Lines rows carry it, each byte that is not
// UTF-8 a U+FFFD (encoding/json's coercion): a Parquet STRING column
// holds UTF-8, and a trace's text cut mid-character went into it as its
// raw bytes, which a strict reader refuses and others decode otherwise
// than the --format messages rows.
func utf8Text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
