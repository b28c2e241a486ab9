package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestExportMessagesIsWhatTRLReads: `rlt export --format messages` writes
// the accepted traces as chat rows, {"messages": [system, user,
// assistant]} of role and content, the run's student prompt the system
// turn. TRL's SFTTrainer reads such a row as it is; given the Stratos row
// it renames "conversations" to "messages" and passes over the top-level
// "system" (trl/trainer/sft_trainer.py, maybe_convert_to_chatml), so the
// new student was fine-tuned under the tokenizer's default system prompt,
// not the run's. There was no other format but CSV.
func TestExportMessagesIsWhatTRLReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir) // reviewed: 0-0-0 accepted
	code, stratos, errs := runCLI(t, "", "export", "--run", dir)
	if code != 0 {
		t.Fatalf("rlt export: exit %d: %s", code, errs)
	}
	var want struct {
		System        string `json:"system"`
		Conversations []struct {
			From  string `json:"from"`
			Value string `json:"value"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal([]byte(stratos), &want); err != nil || len(want.Conversations) != 2 {
		t.Fatalf("the Stratos row %q: %v", stratos, err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"stdout", nil},
		{"--out", []string{"--out", filepath.Join(t.TempDir(), "rows.jsonl")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"export", "--run", dir, "--format", "messages"}, c.args...)...)
			if code != 0 {
				t.Fatalf("rlt export --format messages: exit %d: %s", code, errs)
			}
			if c.args != nil {
				b, err := os.ReadFile(c.args[1])
				if err != nil {
					t.Fatal(err)
				}
				out = string(b)
			}
			if strings.Count(out, "\n") != 1 {
				t.Fatalf("want one row, a line, for the one accepted trace: %q", out)
			}
			var row map[string][]map[string]string
			if err := json.Unmarshal([]byte(out), &row); err != nil {
				t.Fatalf("the row %q is not {\"messages\": [{role, content}…]}: %v", out, err)
			}
			msgs, ok := row["messages"]
			if !ok || len(row) != 1 || len(msgs) != 3 {
				t.Fatalf("want one key, messages, of 3 turns: %q", out)
			}
			for i, w := range []map[string]string{
				{"role": "system", "content": want.System},
				{"role": "user", "content": want.Conversations[0].Value},
				{"role": "assistant", "content": want.Conversations[1].Value},
			} {
				if len(msgs[i]) != 2 || msgs[i]["role"] != w["role"] || msgs[i]["content"] != w["content"] {
					t.Errorf("turn %d is %q, want %q", i, msgs[i], w)
				}
			}
			if !strings.Contains(errs, "1 written") {
				t.Errorf("stderr %q does not count the row written", errs)
			}
		})
	}
}

// TestExportParquetIsWhatVerlReads: `rlt export --format parquet` writes
// the messages rows in one Parquet file, a "messages" column that is a
// LIST of {role, content}: verl's multi-turn SFT dataset reads Parquet only
// (pandas.read_parquet, then its messages_key, "messages"), so neither the
// Stratos rows nor the messages JSON Lines reached it without a conversion
// of the user's own.
func TestExportParquetIsWhatVerlReads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir) // reviewed: 0-0-0 accepted
	code, jsonl, errs := runCLI(t, "", "export", "--run", dir, "--format", "messages")
	if code != 0 {
		t.Fatalf("rlt export --format messages: exit %d: %s", code, errs)
	}
	var want struct {
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	if err := json.Unmarshal([]byte(jsonl), &want); err != nil || len(want.Messages) != 3 {
		t.Fatalf("the messages row %q: %v", jsonl, err)
	}
	out := filepath.Join(t.TempDir(), "sft.parquet")
	code, _, errs = runCLI(t, "", "export", "--run", dir, "--format", "parquet", "--out", out)
	if code != 0 {
		t.Fatalf("rlt export --format parquet: exit %d: %s", code, errs)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s is not Parquet: %v", out, err)
	}
	// The three-level LIST of a struct, what pyarrow reads as
	// list<struct<role, content>> and pandas as a list of dicts.
	cols := fmt.Sprint(pf.Schema().Columns())
	if cols != "[[messages list element role] [messages list element content]]" {
		t.Errorf("columns %s, want messages.list.element.{role, content}", cols)
	}
	if !strings.Contains(pf.Schema().String(), "group messages (LIST)") {
		t.Errorf("messages is not a LIST:\n%s", pf.Schema())
	}
	type turn struct {
		Role    string `parquet:"role"`
		Content string `parquet:"content"`
	}
	rows, err := parquet.ReadFile[struct {
		Messages []turn `parquet:"messages,list"`
	}](out)
	if err != nil || len(rows) != 1 || len(rows[0].Messages) != 3 {
		t.Fatalf("want the one accepted trace's row of 3 turns, read %+v (%v)", rows, err)
	}
	for i, m := range rows[0].Messages {
		if m.Role != want.Messages[i].Role || m.Content != want.Messages[i].Content {
			t.Errorf("turn %d is %+v, want the messages row's %+v", i, m, want.Messages[i])
		}
	}
}
