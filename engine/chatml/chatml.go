// Package chatml is ChatML, the chat format of Qwen2 models, as the
// workbench writes it: its markers and its turns. engine/record renders
// the teacher's and student's prompts with it, without linking a
// tokenizer (the run folder reads records without one), and
// engine/tokenizer renders chat messages with it: one way to write a turn
// for both. It imports only the standard library.
package chatml

import "strings"

// ChatML's markers and Qwen2's end-of-text token.
const (
	ImStart   = "<|im_start|>"
	ImEnd     = "<|im_end|>"
	EndOfText = "<|endoftext|>"
)

// WriteTurn writes one turn, "<|im_start|>role\ncontent<|im_end|>\n"; with
// end false the turn is left open after content (no "<|im_end|>\n"), for
// the model to continue: an assistant turn begun with a prefill, or with
// content "" the generation prompt "<|im_start|>assistant\n".
func WriteTurn(b *strings.Builder, role, content string, end bool) {
	b.WriteString(ImStart)
	b.WriteString(role)
	b.WriteByte('\n')
	b.WriteString(content)
	if end {
		b.WriteString(ImEnd)
		b.WriteByte('\n')
	}
}
