// Command trl-gen writes the TRL completion files of the sessions tests'
// fixture (../trl/completions/completions_{step:05d}.parquet) with
// github.com/xitongsys/parquet-go, a Parquet implementation other than the
// one the workbench reads with (github.com/parquet-go/parquet-go).
//
// It follows what huggingface/trl trl/trainer/grpo_trainer.py
// GRPOTrainer.log writes when log_completions is on: a pandas DataFrame
// with the columns step (int64), prompt and completion (the texts decoded
// with skip_special_tokens=True), one float64 column per reward function
// named after it, the columns given to log_extra, and advantage (float64),
// written by DataFrame.to_parquet, whose pyarrow engine makes every column
// optional (nullable), dictionary-encodes every column and compresses with
// Snappy (pyarrow.parquet.write_table's defaults), as this does. Run it
// from this folder:
//
//	go run .
//
// It has its own go.mod so that the workbench's module does not depend on
// this writer.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/xitongsys/parquet-go-source/local"
	"github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/writer"
)

// row is one generation as GRPOTrainer logs it, with two reward
// functions, answer_reward and format_reward, and one extra column
// (GRPOTrainer.log_extra), tool_calls.
type row struct {
	Step         *int64   `parquet:"name=step, type=INT64, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Prompt       *string  `parquet:"name=prompt, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	Completion   *string  `parquet:"name=completion, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	AnswerReward *float64 `parquet:"name=answer_reward, type=DOUBLE, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	FormatReward *float64 `parquet:"name=format_reward, type=DOUBLE, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
	ToolCalls    *float64 `parquet:"name=tool_calls, type=DOUBLE, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"` // a log_extra column
	Advantage    *float64 `parquet:"name=advantage, type=DOUBLE, repetitiontype=OPTIONAL, encoding=PLAIN_DICTIONARY"`
}

var questions = [][2]string{
	{"What is 12 * 13?", "156"},
	{"Factor x^2 - 5x + 6.", "(x - 2)(x - 3)"},
}

// decodedPrompt is a teacher prompt as batch_decode(...,
// skip_special_tokens=True) gives it: the chat template's <|im_start|> and
// <|im_end|> are gone.
func decodedPrompt(q, s string) string {
	return "system\nYou are a teacher.\nuser\n" + q + "\nassistant\n<|begin_of_solution|>" + s +
		"<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n"
}

func write(path string, step int64) error {
	fw, err := local.NewLocalFileWriter(path)
	if err != nil {
		return err
	}
	pw, err := writer.NewParquetWriter(fw, new(row), 1)
	if err != nil {
		return err
	}
	pw.CompressionType = parquet.CompressionCodec_SNAPPY
	for _, qs := range questions {
		for i := 0; i < 2; i++ {
			p := decodedPrompt(qs[0], qs[1])
			c := fmt.Sprintf("Think step by step about '%s', way %d.<|end_of_explanation|>", qs[0], i)
			ans := float64(1 - i)
			format := 0.5
			adv := 0.7
			if i == 1 {
				adv = -0.7
			}
			st := step
			calls := float64(i + 1)
			if err := pw.Write(row{Step: &st, Prompt: &p, Completion: &c, AnswerReward: &ans, FormatReward: &format, ToolCalls: &calls, Advantage: &adv}); err != nil {
				return err
			}
		}
	}
	if err := pw.WriteStop(); err != nil {
		return err
	}
	return fw.Close()
}

func main() {
	dir := filepath.Join("..", "trl", "completions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, step := range []int64{2, 4} {
		if err := write(filepath.Join(dir, fmt.Sprintf("completions_%05d.parquet", step)), step); err != nil {
			log.Fatal(err)
		}
	}
}
