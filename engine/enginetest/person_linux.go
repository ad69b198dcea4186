package enginetest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
)

// ordinaryUserName is the ordinary user the rootless tests run as, made when
// missing (CI is root and may), with subordinate IDs as Debian's adduser
// gives them.
const ordinaryUserName = "berth-e2e"

// Person is an ordinary user: their IDs, home and the folders the session
// would give them.
type Person struct {
	UID, GID            int
	Home, Runtime, Data string
}

// OrdinaryUser is the ordinary user rootless tests run as, made when
// missing; the test skips, saying why, where that cannot be done or the
// rootless engine could not run (no /dev/net/tun for users, no
// newuidmap or pasta). Its runtime folder and Berth data go at cleanup.
func OrdinaryUser(t testing.TB) *Person {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making an ordinary user to test the rootless engine needs root (CI is root)")
	}
	if fi, err := os.Stat("/dev/net/tun"); err != nil || fi.Mode().Perm()&0o006 != 0o006 {
		t.Skip("/dev/net/tun is not open to ordinary users (Debian's default mode is 0666; packaging/dev/setup.sh test sets it): the rootless engine's network needs it")
	}
	for _, tool := range []string{"newuidmap", "pasta"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packages uidmap and passt; packaging/dev/setup.sh installs them)", tool)
		}
	}
	u := ensureOrdinaryUser(t)
	p := &Person{Home: u.HomeDir}
	p.UID, _ = strconv.Atoi(u.Uid)
	p.GID, _ = strconv.Atoi(u.Gid)
	// What a login session gives: a private runtime folder, and a data
	// folder under home, of this test process's own (tests of several
	// packages run at once, each with its engine).
	id := strconv.Itoa(os.Getpid())
	p.Runtime = p.Mkdir(t, filepath.Join(os.TempDir(), "berth-e2e-run-"+id))
	p.Mkdir(t, filepath.Join(p.Home, ".local"))
	p.Data = p.Mkdir(t, filepath.Join(p.Home, ".local", "share-"+id))
	t.Cleanup(func() {
		os.RemoveAll(p.Runtime)
		os.RemoveAll(p.Data)
	})
	return p
}

// ensureOrdinaryUser makes the user, with subordinate IDs as Debian's
// adduser gives them, unless it exists; test processes of several
// packages may ask at once, so one at a time.
func ensureOrdinaryUser(t testing.TB) *user.User {
	t.Helper()
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "berth-e2e-user.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	u, err := user.Lookup(ordinaryUserName)
	if err != nil {
		if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/bash", ordinaryUserName).CombinedOutput(); err != nil {
			t.Fatalf("useradd: %v %s", err, out)
		}
		if u, err = user.Lookup(ordinaryUserName); err != nil {
			t.Fatal(err)
		}
	}
	if data, _ := os.ReadFile("/etc/subuid"); !strings.Contains(string(data), ordinaryUserName+":") {
		if out, err := exec.Command("usermod", "--add-subuids", "300000-365535", "--add-subgids", "300000-365535", ordinaryUserName).CombinedOutput(); err != nil {
			t.Fatalf("usermod: %v %s", err, out)
		}
	}
	return u
}

// Mkdir makes dir (and its parents) owned by the person.
func (p *Person) Mkdir(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chown(dir, p.UID, p.GID)
	return dir
}

// Command runs name as the person, in their session's environment.
func (p *Person) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = p.Home
	cmd.Env = []string{"HOME=" + p.Home, "USER=" + ordinaryUserName, "LOGNAME=" + ordinaryUserName, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"XDG_RUNTIME_DIR=" + p.Runtime, "XDG_DATA_HOME=" + p.Data, "DOCKER_CLI_HINTS=false", "DOCKER_BUILDKIT=0"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(p.UID), Gid: uint32(p.GID)}}
	return cmd
}

// CopyTree copies the files under src to dst, owned by the person.
func (owner *Person) CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			owner.Mkdir(t, target)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		os.WriteFile(target, data, 0o644)
		os.Chown(target, owner.UID, owner.GID)
		return nil
	})
}

// StartBerthd starts the berthd at binary as the person, with args (none:
// everything it uses is found as it would be for them). It returns the
// engine's address, and stops it when the test ends.
func (p *Person) StartBerthd(t testing.TB, binary string, args ...string) string {
	t.Helper()
	return p.startBerthd(t, nil, binary, args...)
}

// StartBerthdIn is StartBerthd with berthd started in the cgroup dirs
// (DelegateCgroup's), as a session's systemd would start it in a
// delegated scope.
func (p *Person) StartBerthdIn(t testing.TB, dirs []string, binary string, args ...string) string {
	t.Helper()
	return p.startBerthd(t, dirs, binary, args...)
}

func (p *Person) startBerthd(t testing.TB, cgroupDirs []string, binary string, args ...string) string {
	t.Helper()
	bin := filepath.Join(p.Mkdir(t, filepath.Join(p.Runtime, "bin")), "berthd")
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := p.Command(ctx, bin, args...)
	if cgroupDirs != nil {
		// Root moves the shell into the cgroups, which then becomes
		// berthd as the person (the same PID: signals reach berthd).
		cmd.SysProcAttr = nil
		cmd.Path, _ = exec.LookPath("sh")
		cmd.Args = append([]string{"sh", "-c", `for d; do echo $$ > "$d/cgroup.procs" || exit 1; done; exec setpriv --reuid=` + strconv.Itoa(p.UID) + ` --regid=` + strconv.Itoa(p.GID) + ` --clear-groups -- ` + bin + ` ` + strings.Join(args, " "), "sh"}, cgroupDirs...)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Error("the rootless berthd did not end within 20 s of SIGTERM")
			cancel()
			<-exited
		}
		cancel()
		if t.Failed() {
			t.Logf("rootless berthd log:\n%s", log.String())
		}
	})
	sock := filepath.Join(p.Runtime, "berth", "berth.sock")
	for i := 0; i < 200; i++ {
		select {
		case <-exited:
			t.Fatalf("the rootless berthd exited:\n%s", log.String())
		default:
		}
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			fi, _ := os.Stat(sock)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("the rootless engine's socket has mode %v, want 0600", fi.Mode().Perm())
			}
			return "unix://" + sock
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the rootless berthd did not listen on %s:\n%s", sock, log.String())
	return ""
}

// DelegateCgroup makes a cgroup for the person and gives it to them, as
// an administrator delegates one (cgcreate -a/-t on cgroup v1, at the same
// path in every hierarchy; on cgroup v2 the way systemd's Delegate=yes
// does): the directory and the files that move processes and hand out
// controllers are theirs. It returns the cgroup's path and its
// directories; they go at cleanup, deepest first. It skips, saying why,
// where the cgroup file systems are not there to write.
func (p *Person) DelegateCgroup(t testing.TB) (path string, dirs []string) {
	t.Helper()
	path = "/berth-e2e-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(int(time.Now().UnixNano()%1e6))
	mounts, _ := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	for _, m := range mounts {
		dirs = append(dirs, filepath.Join(m.Mountpoint, path))
	}
	if len(dirs) == 0 {
		t.Skip("no cgroup file system is mounted here")
	}
	t.Cleanup(func() {
		for _, top := range dirs {
			var all []string
			filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					all = append(all, p)
				}
				return nil
			})
			for _, d := range slices.Backward(all) {
				os.Remove(d)
			}
		}
	})
	for _, dir := range dirs {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skipf("cannot make a cgroup to delegate: %v", err)
		}
		// A v1 cpuset takes no process until it has CPUs and memory nodes.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f)); err == nil {
				os.WriteFile(filepath.Join(dir, f), v, 0)
			}
		}
		for _, f := range []string{"", "cgroup.procs", "tasks", "cgroup.subtree_control", "cgroup.threads"} {
			if err := os.Chown(filepath.Join(dir, f), p.UID, p.GID); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	}
	return path, dirs
}
