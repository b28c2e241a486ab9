package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// deviceFlag is the --device flag of a command that computes in this
// process: cpu, gpu, gpu:N or auto (default: a discrete GPU when present,
// as `rlt run`).
func deviceFlag(fs *flag.FlagSet, what string) *string {
	return fs.String("device", device.Auto, "where "+what+" compute: cpu, gpu, gpu:N (the Nth Vulkan device, as vulkaninfo numbers them) or auto (a discrete GPU when present)")
}

// matmulFlag is the --matmul flag of the commands that train (config key
// matmul): the products' precision on a GPU.
func matmulFlag(fs *flag.FlagSet) *string {
	return fs.String("matmul", "", "precision of the products on a GPU: f32, or f16 on tensor cores (float16 operands scaled per row and column, float32 sums); default: the configuration's, f32")
}

// checkDeviceFlags refuses, as a wrong call (the usage, exit 2), a
// --device or --matmul of fs (whichever it has) that names no device or
// precision, before any work: a typo is the call's, not the device's. It
// reads as a configuration's problem with a flag's value does ("--device
// "tpu": want …", runner.FlagProblem), so that one wrong value is said
// alike whichever check finds it; a value from a configuration file is
// that file's problem, on its line (runner.CheckFile).
//
// An empty value given (--device "", a script's unset variable) is refused
// too: a configuration's empty key means its default, for files written
// before the key existed, but a flag given empty is no choice made.
func checkDeviceFlags(fs *flag.FlagSet) error {
	given := flagsGiven(fs)
	for _, c := range []struct {
		flag  string
		check func(string) error
		want  string
	}{{"device", device.Check, "cpu, gpu, gpu:N or auto"}, {"matmul", device.CheckMatmul, "f32 or f16"}} {
		if f := fs.Lookup(c.flag); f != nil {
			if given[c.flag] && f.Value.String() == "" {
				return badValue(fs, "--%s is empty: want %s (or leave --%s out for its default)", c.flag, c.want, c.flag)
			}
			if err := c.check(f.Value.String()); err != nil {
				return badValue(fs, "%v", runner.FlagProblem(c.flag, c.flag, err))
			}
		}
	}
	return nil
}

// openDevice opens the device --device names and says on stderr which it
// took and why, as `rlt run` shows it in its header; cmd names the command
// in the message (main names it in an error).
func openDevice(cmd, name string, stderr io.Writer) (compute.Backend, error) {
	be, choice, err := device.Open(name, device.MatmulF32)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "%s: computing on %s\n", cmd, choice)
	return be, nil
}

// deviceFailed says what to do when a failure came from the device (out of
// its memory, lost): the work again with --device cpu. Other errors pass as
// they are.
func deviceFailed(be compute.Backend, what string, err error) error {
	if be != nil && be.Err() != nil {
		return device.FailedWith(be, what, err, "run it again with --device cpu")
	}
	return err
}

// deviceCheck is err, or, when the work returned none, the device's own
// failure (work after a lost device fails quietly, the backend's error
// sticky), either with deviceFailed's advice when the device failed.
func deviceCheck(be compute.Backend, what string, err error) error {
	if err == nil {
		err = be.Err()
	}
	if err == nil {
		return nil
	}
	return deviceFailed(be, what, err)
}

// closeDevice ends a command's use of be, deferred with the command's
// named error: a device that failed on the way (the work after it failed
// too) makes the command's error deviceFailed's, then be is closed.
func closeDevice(be compute.Backend, err *error) {
	if be.Err() != nil {
		*err = deviceFailed(be, "computing", errors.Join(*err, be.Err()))
	}
	device.Close(be)
}

// checkModelsMemory refuses, before any device opens or model loads, and
// so before anything is written, work that cannot fit where --device dev
// computes (device.MemoryOf, probed without opening it): the host's
// memory on the CPU, the GPU's on a GPU. It says it in rlt run's and rlt
// score's words, from the same owner: a tensor past one allocation there
// (memory.CheckBuffer), then the estimate past the memory
// (memory.CheckWhere, which on a GPU names it and offers --device cpu).
// what names the work in the message ("generating"); fixes are what of
// the command's own would make it need less.
func checkModelsMemory(what, dev string, m memory.Models, fixes ...string) error {
	where, err := device.MemoryOf(dev)
	if err != nil {
		return err
	}
	return checkModelsMemoryOn(what, where, where.HeadBytes, m, fixes)
}

// checkForwardsMemory is checkModelsMemory for work that runs forwards
// alone, with no backward and no KL (rlt logprobs, rlt serve): on a GPU
// the fused head's logits are a forward chunk's, the budget
// (vulkan.HeadForwardBytes), as rlt score counts them for its log-ratio
// and k3 estimators (cdfb461); HeadBytes' 1.5× holds a backward's or a KL
// chunk's second buffer, which these never make.
func checkForwardsMemory(what, dev string, m memory.Models, fixes ...string) error {
	where, err := device.MemoryOf(dev)
	if err != nil {
		return err
	}
	return checkModelsMemoryOn(what, where, where.HeadForwardBytes, m, fixes)
}

// checkModelsMemoryOn is checkModelsMemory where the memory is known
// (device.MemoryOf), the fused head's logits counted as head bytes there:
// a command that asks for a fit more than once (rlt serve's
// --max-model-len that would fit) probes the device once.
func checkModelsMemoryOn(what string, where device.Memory, head int64, m memory.Models, fixes []string) error {
	m.DeviceHead, m.DeviceScratch, m.Probed, m.OnGPU = head, where.Scratch, where.Probed, where.GPU != ""
	if err := memory.CheckBuffer(what, where.GPU, int64(where.MaxBuffer), m.Largest()); err != nil {
		return err
	}
	return memory.CheckWhere(what, where.GPU, int64(where.Bytes), m.Estimate(), fixes)
}

// heldAs is a model folder's config and the type its matrices are held in
// under prec (a 16-bit checkpoint stays 16-bit under model.Frozen16), read
// from config.json and the checkpoint's header (no weight is read), and
// whether the checkpoint is 16-bit, for a memory estimate.
func heldAs(dir string, prec model.Precision) (memory.Use, bool, error) {
	cfg, dt, err := model.Inspect(dir)
	if err != nil {
		return memory.Use{}, false, err
	}
	u, stored16 := heldFrom(cfg, dt, prec)
	return u, stored16, nil
}

// heldFrom is heldAs of a folder whose config and weights' type
// model.Inspect has read (cfg, dt), for a caller that read them for
// checks of its own (rlt serve) and need not read both files again.
func heldFrom(cfg model.Config, dt compute.DType, prec model.Precision) (memory.Use, bool) {
	u := memory.Use{Cfg: cfg, Held: compute.F32}
	if prec == model.Frozen16 && dt.Is16() {
		u.Held = dt
	}
	return u, dt.Is16()
}

// weightsFix is the fix a 16-bit checkpoint held in float32 offers.
func weightsFix(u memory.Use, stored16 bool) []string {
	if stored16 && u.Held == compute.F32 {
		return []string{"--weights checkpoint: the 16-bit checkpoint's matrices in half the memory"}
	}
	return nil
}
