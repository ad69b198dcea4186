package rootless

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// stageEnv names the stage a berthd process is in the namespace; empty
// outside it.
const (
	stageEnv    = "BERTH_ROOTLESS_STAGE"
	warningsEnv = "BERTH_ROOTLESS_WARNINGS"
	hostPIDEnv  = "BERTH_ROOTLESS_HOST_PID"
)

// Inside says whether this process is the engine in its user namespace.
func Inside() bool { return os.Getenv(stageEnv) == "engine" }

// HostPID is the PID that stands for this engine on the host: the
// namespace's parent, which forwards signals to it, when the engine runs
// rootless (its own PID is the namespace's), else its own.
func HostPID() int {
	if Inside() {
		if pid, err := strconv.Atoi(os.Getenv(hostPIDEnv)); err == nil {
			return pid
		}
	}
	return os.Getpid()
}

// Warnings are what the set-up found missing and did without; docker info
// shows them.
func Warnings() []string {
	if w := os.Getenv(warningsEnv); w != "" {
		return strings.Split(w, "\n")
	}
	return nil
}

// SetupError is a reason the engine cannot start for this user, with what
// the person can do about it.
type SetupError struct {
	Problem string
	Fix     string
}

func (e *SetupError) Error() string { return e.Problem + ". " + e.Fix }

// IDMap is one line of a uid_map or gid_map.
type IDMap struct{ Inside, Outside, Size int }

// Plan is how the namespace will be made for this user.
type Plan struct {
	User       string
	UIDs, GIDs []IDMap
	Warnings   []string
	// Cgroup and Controllers: what DelegateCgroup found (see
	// DelegatedCgroup).
	Cgroup      string
	Controllers []string
}

// DelegateCgroup takes the cgroup the system delegates to this user for
// the engine's containers, moving this process into it (see
// delegateCgroup); where there is none, or it lacks controllers, the plan
// warns that containers run without those limits, as rootless Docker's
// docker info does.
func (p *Plan) DelegateCgroup(ctx context.Context) {
	path, controllers, err := delegateCgroup(ctx)
	if err != nil {
		p.Warnings = append(p.Warnings, "WARNING: Berth runs rootless and containers run without memory, CPU and process-count limits: "+err.Error())
		return
	}
	p.Cgroup, p.Controllers = path, controllers
	if missing, limits := missingLimits(controllers); len(missing) > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("WARNING: the system delegates no %s controller to Berth's engine: containers run without %s", strings.Join(missing, ", "), strings.Join(limits, ", ")))
	}
}

// files the checks read; tests point them elsewhere.
var (
	subuidFile = "/etc/subuid"
	subgidFile = "/etc/subgid"
	procSys    = "/proc/sys"
	tunDevice  = "/dev/net/tun"
)

// Check finds out whether this user can run the engine, and how: which
// IDs the namespace maps, and what is missing that the engine can do
// without. A *SetupError says what stops it.
func Check() (*Plan, error) {
	if v, err := os.ReadFile(procSys + "/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(v)) == "0" {
		return nil, &SetupError{"This system does not let ordinary users make user namespaces", "Run: sudo sysctl -w kernel.unprivileged_userns_clone=1 (and add it to /etc/sysctl.d to keep it)"}
	}
	if v, err := os.ReadFile(procSys + "/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(v)) == "0" {
		return nil, &SetupError{"User namespaces are turned off on this system (user.max_user_namespaces is 0)", "Run: sudo sysctl -w user.max_user_namespaces=15000"}
	}
	if v, err := os.ReadFile(procSys + "/kernel/apparmor_restrict_unprivileged_userns"); err == nil && strings.TrimSpace(string(v)) == "1" {
		return nil, &SetupError{"AppArmor keeps ordinary users from making user namespaces here", "Install Berth from its package (it brings an AppArmor profile for berthd), or run: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"}
	}
	if _, err := exec.LookPath("pasta"); err != nil {
		return nil, &SetupError{"pasta, which gives containers a network without root, is not installed", "Run: sudo apt install passt"}
	}
	if f, err := os.OpenFile(tunDevice, os.O_RDWR, 0); err != nil {
		return nil, &SetupError{"Containers' network needs " + tunDevice + ", which you may not open", "Run: sudo chmod 0666 " + tunDevice + " (the mode Debian gives it)"}
	} else {
		f.Close()
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("who is running berthd: %w", err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	p := &Plan{User: u.Username}
	subUIDs, uerr := subIDs(subuidFile, u.Username, uid)
	subGIDs, gerr := subIDs(subgidFile, u.Username, uid)
	if uerr != nil || gerr != nil {
		p.UIDs, p.GIDs = []IDMap{{0, uid, 1}}, []IDMap{{0, gid, 1}}
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s has no subordinate user and group IDs, so every file in an image belongs to %s: images whose files have other owners do not unpack faithfully. Run: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", u.Username, u.Username, u.Username))
		return p, nil
	}
	for _, tool := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, &SetupError{tool + " is not installed: it maps your subordinate IDs into the engine's namespace", "Run: sudo apt install uidmap"}
		}
	}
	p.UIDs = []IDMap{{0, uid, 1}, {1, subUIDs.Outside, subUIDs.Size}}
	p.GIDs = []IDMap{{0, gid, 1}, {1, subGIDs.Outside, subGIDs.Size}}
	return p, nil
}

// subIDs finds the user's first range in /etc/subuid or /etc/subgid (by
// name or by number).
func subIDs(file, name string, uid int) (IDMap, error) {
	f, err := os.Open(file)
	if err != nil {
		return IDMap{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || (fields[0] != name && fields[0] != strconv.Itoa(uid)) {
			continue
		}
		start, err1 := strconv.Atoi(fields[1])
		count, err2 := strconv.Atoi(fields[2])
		if err1 == nil && err2 == nil && count > 0 {
			return IDMap{Outside: start, Size: count}, nil
		}
	}
	return IDMap{}, fmt.Errorf("no range for %s in %s", name, file)
}

// Reexec starts berthd again with args in a new user, mount and PID
// namespace, maps the plan's IDs into it, and serves as its parent until
// it ends: signals are passed on, and its exit status becomes this
// process's. It returns only when the namespace could not be made.
func Reexec(p *Plan, args []string) error {
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer syncW.Close()
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Env = append(withoutStage(os.Environ()), stageEnv+"=init", warningsEnv+"="+strings.Join(p.Warnings, "\n"), hostPIDEnv+"="+strconv.Itoa(os.Getpid()),
		cgroupEnv+"="+p.Cgroup, controllersEnv+"="+strings.Join(p.Controllers, ","))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{syncR}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID,
		Pdeathsig:  syscall.SIGKILL, // this process gone, the namespace goes
	}
	single := len(p.UIDs) == 1
	if single { // the kernel lets a user map itself: no helper needed
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: p.UIDs[0].Outside, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: p.GIDs[0].Outside, Size: 1}}
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		syncR.Close()
		return startError(err)
	}
	syncR.Close()
	if !single {
		pid := strconv.Itoa(cmd.Process.Pid)
		for tool, maps := range map[string][]IDMap{"newuidmap": p.UIDs, "newgidmap": p.GIDs} {
			argv := []string{pid}
			for _, m := range maps {
				argv = append(argv, strconv.Itoa(m.Inside), strconv.Itoa(m.Outside), strconv.Itoa(m.Size))
			}
			if out, err := exec.Command(tool, argv...).CombinedOutput(); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				return &SetupError{fmt.Sprintf("%s could not map your subordinate IDs (%s)", tool, strings.TrimSpace(string(out))), "Check that /etc/subuid and /etc/subgid give " + p.User + " a range, and that " + tool + " is setuid root (Debian's uidmap package)"}
			}
		}
	}
	syncW.Write([]byte{1}) // mapped: the namespace may begin
	syncW.Close()
	go func() {
		for s := range signals {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(exit.ExitCode())
	}
	return err
}

// withoutStage is env without the variables the stages set.
func withoutStage(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return slices.ContainsFunc([]string{stageEnv, warningsEnv, hostPIDEnv, cgroupEnv, controllersEnv}, func(name string) bool { return strings.HasPrefix(kv, name+"=") })
	})
}

func startError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOSPC) {
		return &SetupError{fmt.Sprintf("The system refused a user namespace for the engine (%v)", err), "User namespaces may be restricted here: see `sysctl user.max_user_namespaces kernel.unprivileged_userns_clone kernel.apparmor_restrict_unprivileged_userns`"}
	}
	return fmt.Errorf("start the engine's namespace: %w", err)
}
