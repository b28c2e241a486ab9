package tokenizer_test

import (
	"fmt"

	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

func Example() {
	tok, err := tokenizer.Load("testdata/qwen2_pairs.json")
	if err != nil {
		panic(err)
	}
	prompt := tokenizer.RenderChatMLPrefill([]tokenizer.Message{
		{Role: "system", Content: "Explain the solution."},
		{Role: "user", Content: "What is 2+2?"},
	}, "<|begin_of_solution|>4<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n")
	ids := tok.Encode(prompt)
	end, _ := tok.ID(tokenizer.ImEnd)
	fmt.Println(ids[:3], tok.TokenString(ids[1]), end)
	fmt.Println(tok.Decode(ids) == prompt)
	// Output:
	// [1201 115 121] s 1202
	// true
}
