package run

import (
	"context"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/event"
)

// TestNewClosesTheDeviceWhenItFailsAfterTheLoad: New fails after the
// models have loaded where no training row of the data fits them
// (data.fit) or the trainer cannot be built on them (rlt.NewTrainer: the
// reward's temperature differs from sampling's, which Check refuses, so a
// Checked is made here as no caller could). The device the models loaded
// on is closed then, once, as on a load that fails or stops: it was left
// open, on a GPU the models' memory held until the process ended, while
// the workbench's Runs screen went on and started other runs.
func TestNewClosesTheDeviceWhenItFailsAfterTheLoad(t *testing.T) {
	long := strings.Repeat("7", 300)
	tooLong := dataConfig(writeFile(t, "all-long.jsonl", `{"question":"`+long+`?","solution":"1"}`+"\n"))
	tooLong.EvalEvery = 0
	fitChecked, err := Check(tooLong)
	if err != nil {
		t.Fatal(err)
	}
	temps := DefaultConfig(defaultTeacher, defaultStudent)
	temps.Reward.Temperature = temps.GRPO.Temperature + 0.5
	for _, c := range []struct {
		name, said string
		checked    Checked
	}{
		{"data that does not fit", "no training row fits", fitChecked},
		{"a trainer refused", "temperature", Checked{cfg: temps, made: true}},
	} {
		closed := &backendtest.Closes{}
		open := func(name, matmul string) (compute.Backend, event.DeviceChoice, error) {
			be, choice, err := device.Open(name, matmul)
			closed.Backend = be
			return closed, choice, err
		}
		c.checked.cfg.Device = "cpu"
		e, err := newOn(context.Background(), c.checked, nil, open)
		if e != nil || err == nil || !strings.Contains(err.Error(), c.said) {
			t.Errorf("%s: New: %v; want an error saying %q", c.name, err, c.said)
		}
		if n := closed.Count(); n != 1 {
			t.Errorf("%s: the device was closed %d times; want once", c.name, n)
		}
	}
}
