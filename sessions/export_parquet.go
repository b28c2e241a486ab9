package sessions

import (
	"io"

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
	_, err := p.pw.Write([]chatRow{{Messages: []chatTurn{
		{Role: "system", Content: p.system},
		{Role: "user", Content: question},
		{Role: "assistant", Content: record.StratosAssistant(explanation, solution)},
	}}})
	return err
}

// Close writes the rows still buffered and the file's footer.
func (p *parquetMessages) Close() error { return p.pw.Close() }
