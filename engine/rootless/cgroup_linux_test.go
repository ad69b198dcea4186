package rootless

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
)

// cgroup2Mount is where this host's cgroup v2 hierarchy is mounted (the
// whole of it, or hybrid's part), made ready for a test: every
// controller it has is handed to children of its root, and handed back
// at cleanup where the test was the one to hand it.
func cgroup2Mount(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("making cgroups needs root (CI is root)")
	}
	for _, m := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		available, err := os.ReadFile(filepath.Join(m, "cgroup.controllers"))
		if err != nil {
			continue
		}
		enabled, _ := os.ReadFile(filepath.Join(m, "cgroup.subtree_control"))
		for _, c := range strings.Fields(string(available)) {
			if !slices.Contains(strings.Fields(string(enabled)), c) && cgroups.WriteFile(m, "cgroup.subtree_control", "+"+c) == nil {
				t.Cleanup(func() { cgroups.WriteFile(m, "cgroup.subtree_control", "-"+c) })
			}
		}
		return m
	}
	t.Skip("this host has no cgroup v2 hierarchy mounted")
	return ""
}

// A process alone in a cgroup it may manage takes it: it moves into the
// engine's leaf and the cgroup hands its controllers down. One that
// shares its cgroup asks systemd for a scope of its own. The hierarchy
// is the kernel's; systemd's part is done here as systemd does it (a
// new cgroup, the process moved in), since no user systemd runs in CI.
func TestDelegateV2(t *testing.T) {
	mount := cgroup2Mount(t)
	top := filepath.Join(mount, "berth-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(top, 0o755); err != nil {
		t.Fatal(err)
	}
	var made []string
	t.Cleanup(func() {
		for _, d := range slices.Backward(made) {
			os.Remove(d)
		}
		os.Remove(top)
	})
	mkcg := func(name string) string {
		dir := filepath.Join(top, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		made = append(made, dir)
		return dir
	}
	cgroups.WriteFile(top, "cgroup.subtree_control", "+"+strings.Join(strings.Fields(readFile(t, top, "cgroup.controllers")), " +"))
	start := func(dir string) int {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if err := cgroups.WriteFile(dir, "cgroup.procs", strconv.Itoa(cmd.Process.Pid)); err != nil {
			t.Fatal(err)
		}
		return cmd.Process.Pid
	}
	systemdScope := func(ctx context.Context, pid int) error {
		scope := mkcg("scope-" + strconv.Itoa(pid))
		return cgroups.WriteFile(scope, "cgroup.procs", strconv.Itoa(pid))
	}
	noSystemd := func(context.Context, int) error { return errors.New("no systemd here") }

	for _, tc := range []struct {
		name    string
		shared  bool
		scope   func(context.Context, int) error
		wantIn  string // the cgroup taken, under top
		wantErr string
	}{
		{name: "alone", scope: noSystemd, wantIn: "alone"},
		{name: "shared", shared: true, scope: systemdScope, wantIn: "scope-"},
		{name: "shared-no-systemd", shared: true, scope: noSystemd, wantErr: "shares its cgroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mkcg(tc.name)
			pid := start(dir)
			if tc.shared {
				start(dir)
			}
			path, controllers, err := delegateV2(context.Background(), mount, pid, tc.scope)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "no systemd here") {
					t.Fatalf("err = %v, want one saying %q and systemd's reason", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			taken := filepath.Join(mount, path)
			made = append(made, filepath.Join(taken, engineLeaf))
			if !strings.HasPrefix(taken, filepath.Join(top, tc.wantIn)) {
				t.Errorf("took %s, want %s", taken, filepath.Join(top, tc.wantIn))
			}
			if own, _ := v2CgroupOf(pid); own != filepath.Join(path, engineLeaf) {
				t.Errorf("the process is in %s, want %s", own, filepath.Join(path, engineLeaf))
			}
			want := strings.Fields(readFile(t, taken, "cgroup.controllers"))
			if !slices.Equal(controllers, want) || !slices.Equal(strings.Fields(readFile(t, taken, "cgroup.subtree_control")), want) {
				t.Errorf("controllers %v handed down, want all of %v", controllers, want)
			}
			if len(want) == 0 {
				t.Log("the hierarchy has no controller to hand down here: only the move was checked")
			}
			// A container's cgroup under it gets them.
			ctr := filepath.Join(taken, "berth")
			if err := os.Mkdir(ctr, 0o755); err != nil {
				t.Fatal(err)
			}
			made = append(made, ctr)
			if got := strings.Fields(readFile(t, ctr, "cgroup.controllers")); !slices.Equal(got, want) {
				t.Errorf("a container's cgroup has controllers %v, want %v", got, want)
			}
		})
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMissingLimits(t *testing.T) {
	for _, tc := range []struct {
		controllers, missing []string
	}{
		{[]string{"cpu", "cpuset", "io", "memory", "pids"}, nil},
		{[]string{"cpu", "memory", "pids"}, []string{"cpuset", "io"}}, // Debian 12's user@.service
		{[]string{"blkio", "cpu", "cpuacct", "cpuset", "memory", "pids"}, nil},
		{nil, []string{"memory", "cpu", "pids", "cpuset", "io"}},
	} {
		if missing, limits := missingLimits(tc.controllers); !slices.Equal(missing, tc.missing) || len(limits) != len(missing) {
			t.Errorf("missingLimits(%v) = %v %v, want %v", tc.controllers, missing, limits, tc.missing)
		}
	}
}
