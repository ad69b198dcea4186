package rootless

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// cgroupEnv and controllersEnv carry, to the engine in its namespace, the
// cgroup delegated to it and the controllers it may limit with; empty
// when the system delegates none.
const (
	cgroupEnv      = "BERTH_ROOTLESS_CGROUP"
	controllersEnv = "BERTH_ROOTLESS_CONTROLLERS"
)

// engineLeaf is where the engine's own processes move inside a cgroup v2
// delegated to it: cgroup v2 lets a cgroup hand controllers to its
// children only while it holds no process itself.
const engineLeaf = "engine"

// DelegatedCgroup is the cgroup (a path in the cgroup hierarchy, the same
// in every v1 controller's) that the system delegated to this rootless
// engine, under which its containers' cgroups go, and the controllers
// enabled there; "" when none was delegated.
func DelegatedCgroup() (path string, controllers []string) {
	if !Inside() || os.Getenv(cgroupEnv) == "" {
		return "", nil
	}
	return os.Getenv(cgroupEnv), strings.Split(os.Getenv(controllersEnv), ",")
}

// The limits people set, by the controller each needs, as docker info
// names what it lacks.
var limitControllers = []struct{ controller, limit string }{
	{"memory", "memory limit"},
	{"cpu", "CPU quota and shares"},
	{"pids", "process-count limit"},
	{"cpuset", "CPU and memory-node sets"},
	{"io", "block I/O weight and throttling"},
}

// missingLimits says which controllers people's limits need are not
// among controllers, and which limits go with them.
func missingLimits(controllers []string) (missing, limits []string) {
	for _, l := range limitControllers {
		if !slices.Contains(controllers, l.controller) && !(l.controller == "io" && slices.Contains(controllers, "blkio")) {
			missing, limits = append(missing, l.controller), append(limits, l.limit)
		}
	}
	return missing, limits
}

// cgroupRoot is where the cgroup file systems are mounted; tests point
// it at a hierarchy of their own.
var cgroupRoot = "/sys/fs/cgroup"

// delegateCgroup finds the cgroup the system delegated to this process
// for its containers and takes it. On cgroup v2 that is the process's own
// cgroup when this user owns it and no other process shares it; where it
// does not, the user's systemd is asked for a scope of its own with
// Delegate=yes (as rootless Podman does). The process then moves into a
// leaf of it, and the cgroup hands its controllers to its children. On
// cgroup v1, every hierarchy's own cgroup must be this user's, at one
// path (an administrator's cgcreate -a/-t). The error says why there is
// none.
func delegateCgroup(ctx context.Context) (path string, controllers []string, err error) {
	if cgroups.IsCgroup2UnifiedMode() {
		return delegateV2(ctx, cgroupRoot, os.Getpid(), askSystemdForScope)
	}
	return delegatedV1(os.Getpid())
}

// delegateV2 is delegateCgroup on the cgroup v2 hierarchy mounted at
// mount; askScope moves the process into a delegated scope of its own.
func delegateV2(ctx context.Context, mount string, pid int, askScope func(context.Context, int) error) (string, []string, error) {
	own, err := v2CgroupOf(pid)
	if err != nil {
		return "", nil, err
	}
	if why := ownedAlone(filepath.Join(mount, own), pid); why != nil {
		if err := askScope(ctx, pid); err != nil {
			return "", nil, fmt.Errorf("%w, and systemd gave it no cgroup of its own: %w", why, err)
		}
		if own, err = v2CgroupOf(pid); err != nil {
			return "", nil, err
		}
		if why := ownedAlone(filepath.Join(mount, own), pid); why != nil {
			return "", nil, fmt.Errorf("the scope systemd made: %w", why)
		}
	}
	dir := filepath.Join(mount, own)
	leaf := filepath.Join(dir, engineLeaf)
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", nil, fmt.Errorf("make the engine's cgroup: %w", err)
	}
	if err := cgroups.WriteFile(leaf, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return "", nil, fmt.Errorf("move the engine into its cgroup: %w", err)
	}
	available, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return "", nil, err
	}
	for _, c := range strings.Fields(string(available)) {
		// One at a time: the system may refuse one (a controller kept
		// for itself) and grant the rest.
		cgroups.WriteFile(dir, "cgroup.subtree_control", "+"+c)
	}
	enabled, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return "", nil, err
	}
	return own, strings.Fields(string(enabled)), nil
}

// ownedAlone says why the cgroup at dir is not one this process may take
// for itself: not this user's to manage, or shared with other processes
// (moving them would pull them out from under whoever started them).
func ownedAlone(dir string, pid int) error {
	for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control"} {
		if err := unix.Access(filepath.Join(dir, f), unix.W_OK); err != nil {
			return fmt.Errorf("the system does not delegate the engine's cgroup %s to you", dir)
		}
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	if f := strings.Fields(string(procs)); !slices.Equal(f, []string{strconv.Itoa(pid)}) {
		return fmt.Errorf("the engine shares its cgroup %s with %d other processes", dir, len(f)-1)
	}
	return nil
}

// v2CgroupOf is the process's cgroup in the v2 hierarchy.
func v2CgroupOf(pid int) (string, error) {
	own, err := cgroups.ParseCgroupFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", fmt.Errorf("read the engine's cgroup: %w", err)
	}
	path, ok := own[""]
	if !ok {
		return "", errors.New("the engine has no cgroup v2")
	}
	return path, nil
}

// delegatedV1 is delegateCgroup on cgroup v1 (or hybrid) hierarchies:
// libcontainer puts a container at one path in each of them, so the
// process's own cgroup must lie at the same path in all, and be this
// user's in all.
func delegatedV1(pid int) (string, []string, error) {
	own, err := cgroups.ParseCgroupFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", nil, fmt.Errorf("read the engine's cgroup: %w", err)
	}
	mounts, err := cgroups.GetCgroupMounts(false)
	if err != nil {
		return "", nil, fmt.Errorf("find the cgroup file systems: %w", err)
	}
	path := ""
	for _, p := range own {
		path = p // any: all must be the same
		break
	}
	var controllers []string
	for subsystem, p := range own {
		if p != path {
			return "", nil, errors.New("the system does not delegate a cgroup to you (with cgroup v1 that takes one cgroup at the same path in every hierarchy, given to you with cgcreate -a/-t)")
		}
		if subsystem != "" && !strings.HasPrefix(subsystem, "name=") {
			controllers = append(controllers, subsystem)
		}
	}
	if path == "" || path == "/" {
		return "", nil, errors.New("the system does not delegate a cgroup to you (cgroup v1: the engine is in the root cgroup)")
	}
	var dirs []string
	if _, ok := own[""]; ok && cgroups.IsCgroup2HybridMode() {
		dirs = append(dirs, filepath.Join(cgroupRoot, "unified", path)) // hybrid's v2 part: libcontainer joins it too
	}
	for _, m := range mounts {
		dirs = append(dirs, filepath.Join(m.Mountpoint, strings.TrimPrefix(path, m.Root)))
	}
	for _, dir := range dirs {
		if unix.Access(dir, unix.W_OK) != nil || unix.Access(filepath.Join(dir, "cgroup.procs"), unix.W_OK) != nil {
			return "", nil, fmt.Errorf("the system does not delegate the engine's cgroup %s to you", dir)
		}
	}
	slices.Sort(controllers)
	return path, controllers, nil
}

// askSystemdForScope asks this user's systemd to move the process into a
// transient scope with Delegate=yes, as `systemd-run --user --scope -p
// Delegate=yes` would, and waits for it to be there.
func askSystemdForScope(ctx context.Context, pid int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := userSystemd(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	unit := fmt.Sprintf("berth-engine-%d.scope", pid)
	done := make(chan string, 1)
	props := []sd.Property{
		sd.PropDescription("Berth's engine"),
		sd.PropSlice("app.slice"),
		sd.PropPids(uint32(pid)),
		{Name: "Delegate", Value: dbus.MakeVariant(true)},
		{Name: "CollectMode", Value: dbus.MakeVariant("inactive-or-failed")},
	}
	if _, err := conn.StartTransientUnitContext(ctx, unit, "fail", props, done); err != nil {
		return fmt.Errorf("start %s: %w", unit, err)
	}
	select {
	case result := <-done:
		if result != "done" {
			return fmt.Errorf("start %s: %s", unit, result)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("start %s: %w", unit, ctx.Err())
	}
}

// userSystemd connects to this user's systemd: at its private socket, as
// systemctl --user does (no D-Bus daemon needed), or through the session
// bus. Never a bus started for the purpose (godbus's autolaunch).
func userSystemd(ctx context.Context) (*sd.Conn, error) {
	runtimeDir := os.Getenv("XDG_RUNTIME_DIR")
	if runtimeDir == "" {
		return nil, errors.New("XDG_RUNTIME_DIR is not set: no session")
	}
	private := filepath.Join(runtimeDir, "systemd", "private")
	if _, err := os.Stat(private); err == nil {
		return sd.NewConnection(func() (*dbus.Conn, error) {
			c, err := dbus.Dial("unix:path="+private, dbus.WithContext(ctx))
			if err != nil {
				return nil, err
			}
			if err := c.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		})
	}
	if _, err := os.Stat(filepath.Join(runtimeDir, "bus")); err != nil && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil, errors.New("your systemd user manager does not run (no " + private + ")")
	}
	return sd.NewUserConnectionContext(ctx)
}
