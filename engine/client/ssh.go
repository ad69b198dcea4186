package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine"
)

// SSHTarget is an engine behind SSH, from an ssh://user@host[:port][/socket]
// address: reached as the docker CLI reaches one, by running
// `docker system dial-stdio` on the host through the person's own ssh
// (their config, agent and known_hosts).
type SSHTarget struct {
	User, Host, Port string
	// Socket is the engine's socket on the host; empty means the remote
	// docker CLI's own choice (its DOCKER_HOST or current context).
	Socket string
}

// The parts of an address go to ssh as arguments and, for the socket, into
// the remote shell's command line: only characters that need no quoting
// pass, so an address cannot smuggle in an ssh option or a shell command.
var (
	sshName   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	sshHost   = regexp.MustCompile(`^[A-Za-z0-9_:.\[\]%-]+$`)
	sshSocket = regexp.MustCompile(`^/[A-Za-z0-9/._@+-]*$`)
)

// ParseSSH reads an ssh:// engine address.
func ParseSSH(address string) (SSHTarget, error) {
	bad := func(why string) (SSHTarget, error) {
		return SSHTarget{}, fmt.Errorf("engine address %q: %s (write it as ssh://user@host, ssh://user@host:port or ssh://user@host/path/to/engine.sock): %w", address, why, engine.ErrInvalidArgument)
	}
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "ssh" {
		return bad("not an ssh:// address")
	}
	var t SSHTarget
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return bad("a password in the address is not supported; use an SSH key or your SSH agent")
		}
		t.User = u.User.Username()
		if !sshName.MatchString(t.User) {
			return bad("the user name has characters SSH logins do not use")
		}
	}
	t.Host, t.Port = u.Hostname(), u.Port()
	if t.Host == "" || !sshHost.MatchString(t.Host) || strings.HasPrefix(t.Host, "-") {
		return bad("no usable host name")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("query and fragment are not allowed")
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		if !sshSocket.MatchString(p) {
			return bad("the socket path has characters that would need quoting")
		}
		t.Socket = p
	}
	return t, nil
}

// String is the address again, for messages.
func (t SSHTarget) String() string {
	s := t.Host
	if t.User != "" {
		s = t.User + "@" + s
	}
	if t.Port != "" {
		s += ":" + t.Port
	}
	return s
}

// login is what a person types to log in by hand: `ssh -p 2222 me@host`.
func (t SSHTarget) login() string {
	s := "ssh "
	if t.Port != "" {
		s += "-p " + t.Port + " "
	}
	if t.User != "" {
		s += t.User + "@"
	}
	return s + t.Host
}

// args are ssh's arguments to run remote (a command line that needs no
// quoting) on the host. BatchMode: the app has no terminal to ask for a
// password or a new host key in, so ssh fails at once and says why.
func (t SSHTarget) args(remote ...string) []string {
	a := []string{"-o", "ConnectTimeout=30", "-o", "BatchMode=yes", "-T"}
	if t.User != "" {
		a = append(a, "-l", t.User)
	}
	if t.Port != "" {
		a = append(a, "-p", t.Port)
	}
	return append(append(a, "--", t.Host), remote...)
}

// dialStdio is the remote command that joins ssh's stdio to the engine.
func (t SSHTarget) dialStdio() []string {
	if t.Socket != "" {
		return []string{"docker", "--host=unix://" + t.Socket, "system", "dial-stdio"}
	}
	return []string{"docker", "system", "dial-stdio"}
}

// Dial opens one connection to the engine: an ssh process whose stdin and
// stdout carry it.
func (t SSHTarget) Dial(ctx context.Context) (net.Conn, error) {
	return t.start(ctx, t.args(t.dialStdio()...), nil)
}

// dialFor is Dial for a client's transport: gone is called when the
// connection's ssh ends by itself (the link dropped, sshd went away), so
// the transport drops its idle connections, which went with it, instead
// of failing the next request on one.
func (t SSHTarget) dialFor(ctx context.Context, gone func()) (net.Conn, error) {
	return t.start(ctx, t.args(t.dialStdio()...), gone)
}

// DialHost opens a TCP connection to addr as the host sees it (ssh -W),
// for a container's port published there.
func (t SSHTarget) DialHost(ctx context.Context, addr string) (net.Conn, error) {
	a := t.args()
	a = append(a[:len(a)-2], "-W", addr, "--", t.Host)
	return t.start(ctx, a, nil)
}

// start runs ssh with args. Its lifetime is the connection's, not ctx's:
// the HTTP transport keeps idle connections for later requests. gone, when
// set, is called if ssh ends before the connection is closed.
func (t SSHTarget) start(ctx context.Context, args []string, gone func()) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command("ssh", args...)
	sshProcAttr(cmd)
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	c := &sshConn{target: t, cmd: cmd, stdin: inW, stdout: outR, exited: make(chan struct{})}
	// Our own pipes, not exec's: Wait may then run beside Read without
	// closing the pipe under it.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, &c.stderr
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		if errors.Is(err, exec.ErrNotFound) {
			return nil, &SSHError{Target: t, Msg: "Berth reaches ssh:// engines with the ssh command, which is not installed here: install OpenSSH's client (Debian and Ubuntu: apt install openssh-client)"}
		}
		return nil, fmt.Errorf("ssh to %s: %w", t, err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
		if gone != nil && !c.closing.Load() {
			gone()
		}
	}()
	return c, nil
}

// sshConn is a connection carried by an ssh process's stdio.
type sshConn struct {
	target  SSHTarget
	cmd     *exec.Cmd
	stdin   *os.File
	stdout  *os.File
	stderr  tailBuffer
	exited  chan struct{}
	waitErr error
	read    atomic.Int64
	closing atomic.Bool
	once    sync.Once
}

func (c *sshConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	c.read.Add(int64(n))
	if err == io.EOF && !c.closing.Load() {
		if ferr := c.failure(); ferr != nil {
			return n, ferr
		}
	}
	return n, err
}

func (c *sshConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil && !c.closing.Load() {
		if ferr := c.failure(); ferr != nil {
			return n, ferr
		}
	}
	return n, err
}

// failure is why ssh ended, once it has: nil when it ended cleanly (the
// engine closed the connection).
func (c *sshConn) failure() error {
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		return &SSHError{Target: c.target, Msg: fmt.Sprintf("the SSH connection to %s stopped carrying data and ssh did not end", c.target)}
	}
	if c.waitErr == nil {
		return nil
	}
	code := -1
	var exit *exec.ExitError
	if errors.As(c.waitErr, &exit) {
		code = exit.ExitCode()
	}
	return explainSSH(c.target, code, c.stderr.String(), c.read.Load() > 0)
}

// CloseWrite ends what is sent (an attach's stdin) and keeps reading.
func (c *sshConn) CloseWrite() error { return c.stdin.Close() }

// Close ends the connection and its ssh: asked first, killed after 3 s.
func (c *sshConn) Close() error {
	c.once.Do(func() {
		c.closing.Store(true)
		c.stdin.Close()
		c.cmd.Process.Signal(syscall.SIGTERM)
		go func() {
			select {
			case <-c.exited:
			case <-time.After(3 * time.Second):
				c.cmd.Process.Kill()
			}
			c.stdout.Close()
		}()
	})
	return nil
}

func (c *sshConn) LocalAddr() net.Addr  { return sshAddr("local") }
func (c *sshConn) RemoteAddr() net.Addr { return sshAddr(c.target.String()) }

// Deadlines work where the OS polls pipes (Linux, macOS), and are no-ops
// elsewhere, as for the docker CLI's ssh connections.
func (c *sshConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}
func (c *sshConn) SetReadDeadline(t time.Time) error  { return noDeadline(c.stdout.SetReadDeadline(t)) }
func (c *sshConn) SetWriteDeadline(t time.Time) error { return noDeadline(c.stdin.SetWriteDeadline(t)) }

func noDeadline(err error) error {
	if errors.Is(err, os.ErrNoDeadline) {
		return nil
	}
	return err
}

type sshAddr string

func (a sshAddr) Network() string { return "ssh" }
func (a sshAddr) String() string  { return string(a) }

// tailBuffer keeps the last 8 KiB ssh wrote to stderr.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - 8<<10; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// SSHError is why an engine behind SSH could not be reached, worded for a
// person with what to do; it is an engine.ErrEngineUnreachable.
type SSHError struct {
	Target SSHTarget
	Msg    string
	// Detail is ssh's own last words, when they add anything.
	Detail string
}

func (e *SSHError) Error() string {
	if e.Detail == "" {
		return e.Msg
	}
	return e.Msg + " (ssh said: " + e.Detail + ")"
}

func (e *SSHError) Is(target error) bool { return target == engine.ErrEngineUnreachable }

// explainSSH words why ssh ended with code, from what it wrote to stderr.
// carried says whether the connection had already carried data: a failure
// then is a dropped connection, not a refused one.
func explainSSH(t SSHTarget, code int, stderr string, carried bool) error {
	last := lastLine(stderr)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(stderr, w) {
				return true
			}
		}
		return false
	}
	e := &SSHError{Target: t, Detail: last}
	switch {
	case has("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED", "No ED25519 host key is known", "host key is known"):
		e.Msg = fmt.Sprintf("the SSH host key of %s is not one you have accepted (it is not in your known_hosts, or it changed): check it, then accept it by logging in once in a terminal: %s", t.Host, t.login())
	case has("Permission denied"):
		e.Msg = fmt.Sprintf("%s refused the SSH login: put your public key in ~/.ssh/authorized_keys there, or load your key into your SSH agent (ssh-add); try it with: %s", t, t.login())
	case has("Could not resolve hostname"):
		e.Msg = fmt.Sprintf("the host name %s could not be looked up: check it, and that you are online", t.Host)
	case has("Connection refused"):
		e.Msg = fmt.Sprintf("%s refused the SSH connection: is sshd running there, and is the port right?", t)
	case has("timed out", "No route to host", "Network is unreachable"):
		e.Msg = fmt.Sprintf("%s did not answer over SSH: check your network (a VPN or firewall?)", t)
	case code == 127 || has("command not found", "docker: not found"):
		e.Msg = fmt.Sprintf("%s has no docker command in an SSH session's PATH: Berth (like the docker CLI) reaches the engine there through `docker system dial-stdio`, so install the docker CLI there (Debian: apt install docker.io)", t.Host)
	case has("Cannot connect to the Docker daemon", "connect: no such file or directory", "connect: permission denied"):
		e.Msg = fmt.Sprintf("the docker CLI on %s cannot reach an engine there: start it (Berth's: berth engine start --docker-context), or name its socket in the address: ssh://%s/path/to/engine.sock", t.Host, t)
	case carried || has("closed by remote host", "Broken pipe", "Connection reset"):
		e.Msg = fmt.Sprintf("the SSH connection to %s dropped", t)
	default:
		e.Msg = fmt.Sprintf("ssh to %s ended with code %d", t, code)
	}
	return e
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r", "")), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
