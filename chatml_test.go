package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRLTCommandsRefuseANonChatMLModel: the RLT prompts are ChatML, so a
// model folder whose tokenizer_config.json names another chat template
// (Llama 3's here) is refused by every command that gives it RLT prompts,
// as `rlt generate --chat` refuses it: one message naming the folder and
// the file and saying what to do, exit 1, nothing scored, no run folder
// and no distilled student made. A folder with a ChatML template, or none
// (our own), is taken.
func TestRLTCommandsRefuseANonChatMLModel(t *testing.T) {
	good := tinyFolder(t, "f32") // no tokenizer_config.json
	llama := tinyFolder(t, "f32")
	llamaConfig := filepath.Join(llama, "tokenizer_config.json")
	os.WriteFile(llamaConfig, []byte(`{"bos_token": "<|begin_of_text|>", "chat_template": "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"}`), 0o644)
	chatml := tinyFolder(t, "f32")
	os.WriteFile(filepath.Join(chatml, "tokenizer_config.json"), []byte(`{"chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"}`), 0o644)
	refused := func(who string) string {
		return who + " " + llama + ": " + llamaConfig + ": chat_template: the chat template is not ChatML (it never writes <|im_start|>); the RLT prompts are ChatML (<|im_start|>role … <|im_end|>), " +
			"so this model would be given a format it was not trained on: give a ChatML model (Qwen2, Qwen2.5), or, if this one does take ChatML, remove chat_template from " + llamaConfig
	}
	row := `{"question":"Q?","solution":"5","explanation":"A"}` + "\n"
	runs := filepath.Join(t.TempDir(), "runs")
	config := filepath.Join(t.TempDir(), "run.toml")
	os.WriteFile(config, []byte("teacher = '"+llama+"'\nstudent = '"+good+"'\ntask = 'addition'\nsteps = 1\n"+smallRun), 0o644)
	cpu := []string{"--device", "cpu"}
	out := filepath.Join(t.TempDir(), "distilled") // nothing may be written there
	for _, c := range []struct {
		name string
		args []string
		want string // the last line of stderr; "" = taken (exit 0)
	}{
		{"score, one folder as both", []string{"score", "--teacher", llama, "--student", llama}, "rlt score: " + refused("teacher and student")},
		{"score, the student's", []string{"score", "--teacher", good, "--student", llama}, "rlt score: " + refused("student")},
		{"score, a ChatML template", []string{"score", "--teacher", chatml, "--student", good}, ""},
		{"train", []string{"train", "--teacher", llama, "--student", good, "--task", "addition", "--steps", "1"}, "rlt train: " + refused("--teacher")},
		{"run --config", []string{"run", "--config", config, "--runs", runs, "--headless"},
			"rlt run: " + config + ":1:1: " + refused("teacher") + " (no run folder was created)"},
		{"eval with a teacher", []string{"eval", "--teacher", llama, "--student", good, "--task", "addition", "--questions", "1"}, "rlt eval: " + refused("teacher")},
		{"eval of the student alone", []string{"eval", "--student", llama, "--task", "addition", "--questions", "1"}, "rlt eval: " + refused("student")},
		{"distill", []string{"distill", "--teacher", llama, "--task", "addition", "--out", out}, "rlt distill: " + refused("teacher")},
		{"distill's student to start from", []string{"distill", "--teacher", good, "--student-init", llama, "--task", "addition", "--out", out},
			"rlt distill: " + refused("--student-init")},
		// The distilled student takes the tokenizer's tokenizer_config.json.
		{"distill --reference's tokenizer", []string{"distill", "--reference", "--tokenizer-from", llama, "--task", "addition", "--out", out},
			"rlt distill: " + refused("--tokenizer-from")},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errs := runCLI(t, row, append(c.args, cpu...)...)
			if c.want == "" {
				if code != 0 || !strings.Contains(stdout, `"reward"`) {
					t.Errorf("exit %d, want it scored: %s%s", code, stdout, errs)
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code != 1 || lines[len(lines)-1] != c.want || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and the last line\n%s", code, stdout, errs, c.want)
			}
		})
	}
	for _, dir := range []string{runs, out} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("a refused command made %s (%v)", dir, err)
		}
	}
}
