package views

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
)

// fakeVM stands in for Berth's VM to test the window alone: it fails
// for good as soon as it is supervised.
type fakeVM struct{ stopped, detached atomic.Bool }

func (f *fakeVM) Stop(context.Context) error { f.stopped.Store(true); return nil }
func (f *fakeVM) Detach()                    { f.detached.Store(true) }
func (f *fakeVM) Supervise(ctx context.Context, report func(app.VMStatus)) {
	report(app.VMStatus{State: "failed", Reason: "the VM stopped unexpectedly"})
	report(app.VMStatus{State: "starting", Reason: "the VM stopped unexpectedly"})
	report(app.VMStatus{State: "failed", Reason: "the VM stopped while starting", ConsoleTail: "Kernel panic - not syncing: VFS: Unable to mount root fs"})
}

// engine = "vm": the window shows the image unpacking with a progress
// bar, then the panels; a VM that fails for good is explained with the
// console's tail; closing the window stops the VM.
func TestWindowFollowsTheVM(t *testing.T) {
	e := apptest.Start(t)
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n"), 0o644)
	fake := &fakeVM{}
	var bars []float64
	saved := connectVM
	defer func() { connectVM = saved }()
	proceed := make(chan struct{})
	connectVM = func(ctx context.Context, s app.Settings, progress app.Progress) (*app.Connection, vmHandle, error) {
		progress("Unpacking Berth's VM image (first use)", 0.4)
		<-proceed
		progress("Unpacking Berth's VM image (first use)", 1)
		progress("Starting Berth's VM…", -1)
		return e.Conn, fake, nil
	}
	w := Start(a, settings, "")
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
	pump()
	if !fake.stopped.Load() || fake.detached.Load() {
		t.Fatal("closing the window left the VM running")
	}
}

// keep_running: closing the window lets go of the VM and leaves it
// running, for the next start to adopt.
func TestWindowKeepsTheVMRunning(t *testing.T) {
	e := apptest.Start(t)
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n[vm]\nkeep_running = true\n"), 0o644)
	fake := &runningVM{}
	saved := connectVM
	defer func() { connectVM = saved }()
	connectVM = func(ctx context.Context, s app.Settings, progress app.Progress) (*app.Connection, vmHandle, error) {
		return e.Conn, fake, nil
	}
	w := Start(a, settings, "")
	waitUI(t, "the panels", func() bool { return w.Tabs != nil })
	w.Win.Close()
	pump()
	if fake.stopped.Load() || !fake.detached.Load() {
		t.Fatalf("keep_running: stopped %v, detached %v; want the VM left running", fake.stopped.Load(), fake.detached.Load())
	}
}

// runningVM is a VM that runs until stopped.
type runningVM struct{ fakeVM }

func (r *runningVM) Supervise(ctx context.Context, report func(app.VMStatus)) {
	report(app.VMStatus{State: "running"})
	<-ctx.Done()
}

// A VM that does not start: the window says why and offers to try
// again, which connects.
func TestWindowRetriesTheVM(t *testing.T) {
	e := apptest.Start(t)
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n"), 0o644)
	saved := connectVM
	defer func() { connectVM = saved }()
	var calls atomic.Int32
	connectVM = func(ctx context.Context, s app.Settings, progress app.Progress) (*app.Connection, vmHandle, error) {
		progress("Starting Berth's VM…", -1)
		if calls.Add(1) == 1 {
			return nil, nil, errors.New("Berth's VM did not start: the VM stopped while starting: no space left on device")
		}
		return e.Conn, &runningVM{}, nil
	}
	w := Start(a, settings, "")
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
		t.Fatalf("connectVM called %d times", calls.Load())
	}
	w.Win.Close()
}

// Closing the window while the VM boots stops the boot: nothing is left
// running behind the app.
func TestWindowCancelsTheVMBootOnClose(t *testing.T) {
	a := test.NewTempApp(t)
	settings := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(settings, []byte("engine = \"vm\"\nwelcome = false\n"), 0o644)
	saved := connectVM
	defer func() { connectVM = saved }()
	booting := make(chan struct{})
	var cancelled atomic.Bool
	connectVM = func(ctx context.Context, s app.Settings, progress app.Progress) (*app.Connection, vmHandle, error) {
		close(booting)
		<-ctx.Done() // a boot that takes its time
		cancelled.Store(true)
		return nil, nil, ctx.Err()
	}
	w := Start(a, settings, "")
	<-booting
	w.Win.Close()
	pump()
	if !cancelled.Load() {
		t.Fatal("closing the window did not stop the VM's boot")
	}
}
