package enginetest

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SSHD is a real OpenSSH server on loopback that lets the person log in
// with a key of the test's own. The ssh client reaches it through Config
// (ssh -F): Wrapper is a folder with an `ssh` that runs the real one with
// -F Config, to put first on the PATH, so nobody's own ~/.ssh is touched.
type SSHD struct {
	// Port serves the person's logins; NoDockerPort the same logins with
	// a PATH that has no docker command.
	Port, NoDockerPort int
	Config, Wrapper    string
	cmd                *exec.Cmd
}

// StartSSHD starts sshd for the person's logins, their sessions given
// env (NAME=value); it is stopped when the test ends. It skips, saying
// why, where OpenSSH's server is not installed.
func StartSSHD(t testing.TB, p *Person, env ...string) *SSHD {
	t.Helper()
	// packaging/dev/setup.sh test unpacks sshd into a cache (installing
	// openssh-server would run one on the machine); else the system's.
	sshd := cmp.Or(os.Getenv("BERTH_TEST_SSHD"), "/usr/sbin/sshd")
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("no sshd at %s (packaging/dev/setup.sh test unpacks Debian's openssh-server and sets BERTH_TEST_SSHD): the remote-engine tests log in through it", sshd)
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("OpenSSH's client is not installed (Debian: openssh-client)")
	}
	// sshd refuses a locked account ("!" in /etc/shadow, as useradd
	// leaves it); "*" has no password either, but is not locked.
	if out, err := exec.Command("usermod", "-p", "*", ordinaryUserName).CombinedOutput(); err != nil {
		t.Fatalf("usermod -p: %v %s", err, out)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // its privilege separation folder
		t.Fatal(err)
	}
	// The keys' folder is the person's to read: sshd reads authorized
	// keys as them.
	dir, err := os.MkdirTemp("", "berth-sshd-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, key := range []string{"host", "client"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "berth-test-"+key, "-f", filepath.Join(dir, key)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	clientPub, _ := os.ReadFile(filepath.Join(dir, "client.pub"))
	os.WriteFile(filepath.Join(dir, "authorized_keys"), clientPub, 0o644)
	s := &SSHD{Port: FreePort(t), NoDockerPort: FreePort(t), Config: filepath.Join(dir, "ssh_config"), Wrapper: filepath.Join(dir, "bin")}

	var conf strings.Builder
	fmt.Fprintf(&conf, "Port %d\nPort %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\n", s.Port, s.NoDockerPort, filepath.Join(dir, "host"), filepath.Join(dir, "authorized_keys"))
	conf.WriteString("StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPidFile none\nAllowUsers " + ordinaryUserName + "\n")
	for _, e := range env {
		fmt.Fprintf(&conf, "SetEnv %s\n", e)
	}
	fmt.Fprintf(&conf, "Match LocalPort %d\n\tForceCommand /usr/bin/env PATH=/var/empty /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n", s.NoDockerPort)
	os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf.String()), 0o644)

	hostPub, _ := os.ReadFile(filepath.Join(dir, "host.pub"))
	hostKey := strings.Join(strings.Fields(string(hostPub))[:2], " ")
	known := fmt.Sprintf("[127.0.0.1]:%d %s\n[127.0.0.1]:%d %s\n", s.Port, hostKey, s.NoDockerPort, hostKey)
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o644)
	client := fmt.Sprintf("Host *\n\tIdentityFile %s\n\tIdentitiesOnly yes\n\tUserKnownHostsFile %s\n\tGlobalKnownHostsFile /dev/null\n\tLogLevel ERROR\n",
		filepath.Join(dir, "client"), filepath.Join(dir, "known_hosts"))
	os.WriteFile(s.Config, []byte(client), 0o644)
	os.Mkdir(s.Wrapper, 0o755)
	wrapper := fmt.Sprintf("#!/bin/sh\nexec /usr/bin/ssh -F %s \"$@\"\n", s.Config)
	os.WriteFile(filepath.Join(s.Wrapper, "ssh"), []byte(wrapper), 0o755)

	var log bytes.Buffer
	s.cmd = exec.Command(sshd, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	s.cmd.Stdout, s.cmd.Stderr = &log, &log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { s.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		s.DropSessions()
		s.cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))); err == nil {
			c.Close()
			return s
		}
		select {
		case <-exited:
			t.Fatalf("sshd exited:\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if i == 200 {
			t.Fatalf("sshd did not listen on port %d:\n%s", s.Port, log.String())
		}
	}
}

// DropSessions ends every login sshd serves now (the processes it started
// for them, and theirs), as a network that drops would: the clients see
// their connections cut.
func (s *SSHD) DropSessions() int {
	n := 0
	for _, pid := range descendantsOf(s.cmd.Process.Pid) {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// descendantsOf are the processes pid started, and theirs, parents first.
func descendantsOf(pid int) []int {
	var out []int
	for _, c := range childrenOf(pid) {
		out = append(append(out, c), descendantsOf(c)...)
	}
	return out
}

// childrenOf are the PIDs whose parent is pid.
func childrenOf(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after ")".
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		if f := strings.Fields(string(rest)); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}
