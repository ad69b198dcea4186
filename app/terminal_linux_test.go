package app_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
)

// A shell in a running container, on a terminal: what is typed runs there,
// a resize reaches the process (stty size), and closing the terminal
// hangs the shell up.
func TestShellInAContainer(t *testing.T) {
	e := apptest.Start(t)
	ctx := context.Background()
	if _, err := e.Core.Engine.Registry.Pull(ctx, e.BusyboxRef, nil, nil); err != nil {
		t.Fatal(err)
	}
	cc := e.Core.Engine.Containers
	id, err := cc.Create(ctx, engine.ContainerSpec{Name: "shell-here", Image: e.BusyboxRef, Cmd: []string{"sleep", "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	defer cc.Remove(ctx, id, true, false)

	term, err := e.Core.Shell(ctx, "shell-here", 24, 80)
	if err != nil {
		t.Fatal(err)
	}
	var out enginetest.Buffer
	go io.Copy(&out, term)
	wait := func(what, want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %q in %q", what, want, out.String())
			}
		}
	}
	io.WriteString(term, "echo round-$((40+2))-trip\n")
	wait("echo", "round-42-trip")
	io.WriteString(term, "stty size\n")
	wait("the first size", "24 80")
	if err := term.Resize(ctx, 40, 132); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	io.WriteString(term, "stty size\n")
	wait("the size after a resize", "40 132")

	term.Close() // the window closed: the shell is hung up
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, ended, _ := term.ExitCode(ctx); ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shell outlived its closed terminal")
		}
	}
}
