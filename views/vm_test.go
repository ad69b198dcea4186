package views

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/enginetest"
)

// fakeVM stands in for Berth's VM to test the window alone: it fails
// for good as soon as it is supervised.
type fakeVM struct{ stopped, detached atomic.Bool }

func (f *fakeVM) Status() app.VMStatus       { return app.VMStatus{State: app.VMRunning} }
func (f *fakeVM) Stop(context.Context) error { f.stopped.Store(true); return nil }
func (f *fakeVM) Detach()                    { f.detached.Store(true) }
func (f *fakeVM) Supervise(ctx context.Context, report func(app.VMStatus)) {
	report(app.VMStatus{State: app.VMFailed, Reason: "the VM stopped unexpectedly"})
	report(app.VMStatus{State: app.VMStarting, Reason: "the VM stopped unexpectedly"})
	report(app.VMStatus{State: app.VMFailed, Reason: "the VM stopped while starting", ConsoleTail: "Kernel panic - not syncing: VFS: Unable to mount root fs"})
}

// openFake is an Opener that reaches a fake engine run by vm, after
// before (which may report progress, wait or fail).
func openFake(t *testing.T, vm app.VMHandle, before func(ctx context.Context, progress app.Progress) error) Opener {
	return func(ctx context.Context, s app.Settings, progress app.Progress, _ ...app.OpenOption) (*app.Core, error) {
		if before != nil {
			if err := before(ctx, progress); err != nil {
				return nil, err
			}
		}
		f := enginetest.NewFake()
		return app.NewCore(ctx, fakeRoles(f), s, vm), nil
	}
}

// waitFor polls cond (what another goroutine does) for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500 && !cond(); i++ {
		pump()
		time.Sleep(20 * time.Millisecond)
	}
	if !cond() {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// engine = "vm": the window shows the image unpacking with a progress
// bar, then the panels; a VM that fails for good is explained with the
// console's tail; closing the window stops the VM.
func TestWindowFollowsTheVM(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n"), 0o644)
	fake := &fakeVM{}
	var bars []float64
	proceed := make(chan struct{})
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, fake, func(ctx context.Context, progress app.Progress) error {
		progress("Unpacking Berth's VM image (first use)", 0.4)
		<-proceed
		progress("Unpacking Berth's VM image (first use)", 1)
		progress("Starting Berth's VM…", -1)
		return nil
	})})
	var bar *widget.ProgressBar
	waitUI(t, "the progress bar", func() bool {
		bar, _ = find(w.Win.Content(), func(o fyne.CanvasObject) bool { _, ok := o.(*widget.ProgressBar); return ok }).(*widget.ProgressBar)
		return bar != nil && bar.Value == 0.4
	})
	if !strings.HasPrefix(w.Status.Text, "Unpacking") {
		t.Fatalf("status %q", w.Status.Text)
	}
	bars = append(bars, bar.Value)
	close(proceed)
	waitUI(t, "the failure dialog", func() bool { return topOverlay(w.Win) != nil && w.Tabs != nil })
	pump()
	if bar.Value != 1 {
		t.Fatalf("progress %v then %v", bars, bar.Value)
	}
	if w.Status.Text != "Berth's VM failed: the VM stopped while starting" {
		t.Fatalf("status %q", w.Status.Text)
	}
	tail := find(topOverlay(w.Win), func(o fyne.CanvasObject) bool {
		l, ok := o.(*widget.Label)
		return ok && strings.Contains(l.Text, "Unable to mount root fs")
	})
	if tail == nil {
		t.Fatal("the dialog does not show the console's tail")
	}
	w.Win.Close()
	waitFor(t, "the VM to stop", fake.stopped.Load)
	if fake.detached.Load() {
		t.Fatal("closing the window detached the VM instead of stopping it")
	}
}

// keep_running: closing the window lets go of the VM and leaves it
// running, for the next start to adopt.
func TestWindowKeepsTheVMRunning(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n[vm]\nkeep_running = true\n"), 0o644)
	fake := &runningVM{}
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, fake, nil)})
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	w.Win.Close()
	waitFor(t, "the VM to be let go", fake.detached.Load)
	if fake.stopped.Load() {
		t.Fatalf("keep_running: stopped %v, detached %v; want the VM left running", fake.stopped.Load(), fake.detached.Load())
	}
}

// runningVM is a VM that runs until stopped.
type runningVM struct{ fakeVM }

func (r *runningVM) Supervise(ctx context.Context, report func(app.VMStatus)) {
	report(app.VMStatus{State: app.VMRunning})
	<-ctx.Done()
}

// A VM that does not start: the window says why and offers to try
// again, which connects.
func TestWindowRetriesTheVM(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n"), 0o644)
	var calls atomic.Int32
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, &runningVM{}, func(ctx context.Context, progress app.Progress) error {
		progress("Starting Berth's VM…", -1)
		if calls.Add(1) == 1 {
			return errors.New("Berth's VM did not start: the VM stopped while starting: no space left on device")
		}
		return nil
	})})
	var retry *widget.Button
	waitUI(t, "the Try again button", func() bool {
		retry, _ = find(w.Win.Content(), func(o fyne.CanvasObject) bool { b, ok := o.(*widget.Button); return ok && b.Text == "Try again" }).(*widget.Button)
		return retry != nil
	})
	if explained := find(w.Win.Content(), func(o fyne.CanvasObject) bool {
		l, ok := o.(*widget.Label)
		return ok && strings.Contains(l.Text, "no space left on device") && strings.Contains(l.Text, "Try again")
	}); explained == nil {
		t.Fatal("the window does not say why the VM did not start")
	}
	test.Tap(retry)
	waitUI(t, "the panels after trying again", func() bool { return w.Tabs != nil })
	if calls.Load() != 2 {
		t.Fatalf("the engine was opened %d times", calls.Load())
	}
	w.Win.Close()
}

// Closing the window while the VM boots stops the boot: nothing is left
// running behind the app.
func TestWindowCancelsTheVMBootOnClose(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n"), 0o644)
	booting := make(chan struct{})
	var cancelled atomic.Bool
	w := Start(a, Options{SettingsPath: settings, Open: openFake(t, nil, func(ctx context.Context, progress app.Progress) error {
		close(booting)
		<-ctx.Done() // a boot that takes its time
		cancelled.Store(true)
		return ctx.Err()
	})})
	<-booting
	w.Win.Close()
	waitFor(t, "the boot to be given up", cancelled.Load)
}
