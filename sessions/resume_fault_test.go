package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// deviceFailure is an event.DeviceFailure, as device.Failed's error is,
// whose words need not say the way on.
type deviceFailure struct{ msg string }

func (e deviceFailure) Error() string { return e.msg }
func (deviceFailure) DeviceFailed()   {}

// TestResumeCommandReadsTheRecordedFault: a run whose device failed
// resumes on the CPU by what its fatal error event records (fault:
// device, event.FaultOf the error), not by its words: ResumeCommand
// matched the note's text against event.ResumeOnCPU, so a device's
// failure worded otherwise was resumed on the device again, and another
// error quoting those words (a path, an earlier error) was sent to the
// CPU. Records written before the field are read by their words, as all
// they have (legacyFault).
func TestResumeCommandReadsTheRecordedFault(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       error  // emitted as the run's fatal error; nil: line is written
		line      string // a fatal error event as an older rlt wrote it
		wantFault string // the "fault" written ("": none)
		want      string // after "rlt run --resume DIR"
	}{
		{name: "device failed", err: deviceFailure{"step 1: vulkan (llvmpipe): device lost: VK_ERROR_DEVICE_LOST"}, wantFault: "device", want: " --device cpu"},
		{name: "wrapped device failure", err: fmt.Errorf("checkpoint of step 1: %w", deviceFailure{"device lost"}), wantFault: "device", want: " --device cpu"},
		{name: "other failure quoting the words", err: errors.New("save checkpoint /runs/" + event.ResumeOnCPU + "/step-000001: no space left on device"), wantFault: "other"},
		{name: "other failure", err: errors.New("checkpoint of step 1: no space left on device"), wantFault: "other"},
		{name: "written before the field: device", line: `{"time":"2026-12-05T05:07:00Z","kind":"error","step":1,"error":"step 1: vulkan (llvmpipe): device lost; ` + event.ResumeOnCPU + `","fatal":true,"severity":"error"}`, want: " --device cpu"},
		{name: "written before the field: other", line: `{"time":"2026-12-05T05:07:00Z","kind":"error","step":1,"error":"step 1: checkpoint: no space left on device","fatal":true,"severity":"error"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r, err := Create(dir, &struct {
				Steps int `toml:"steps"`
			}{3})
			if err != nil {
				t.Fatal(err)
			}
			if c.err != nil {
				r.Emit(event.Error{Time: time.Now(), Step: 1, Err: c.err, Fatal: true})
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			events := filepath.Join(dir, EventsFile)
			if c.line != "" {
				f, err := os.OpenFile(events, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.WriteString(c.line + "\n")
				if err := errors.Join(err, f.Close()); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(events)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, `"kind":"error"`) && c.wantFault != "" && !strings.Contains(l, `"fault":"`+c.wantFault+`"`) {
					t.Errorf("the error event is written %s, want \"fault\":%q in it", l, c.wantFault)
				}
			}
			runs, err := List(filepath.Dir(dir))
			if err != nil || len(runs) != 1 || runs[0].State != StateFailed {
				t.Fatalf("listed %+v, %v; want the run failed", runs, err)
			}
			if got, want := ResumeCommand(dir), "rlt run --resume "+ShellQuote(dir)+c.want; got != want {
				t.Errorf("ResumeCommand = %q, want %q", got, want)
			}
		})
	}
}
