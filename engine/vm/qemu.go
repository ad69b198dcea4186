package vm

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
)

// QEMUConfig says what VM to run.
type QEMUConfig struct {
	Dir            string // the VM's own files: data.img, console.log, qmp.sock
	Kernel, Initrd string // from packaging/vm/mkimage
	CPUs           int    // default 2
	MemoryMB       int    // default 1024
	DiskGB         int    // the data disk's size, default 32 (sparse)
	// Accel is "kvm", "hvf", "whpx", "tcg", or "" to pick what the host has.
	Accel string
	// Binary is the qemu-system program; default qemu-system-x86_64 (or
	// qemu-system-aarch64 on arm64 hosts).
	Binary string
	// EngineFlags are extra berthd flags (--insecure-registry=…).
	EngineFlags []string
}

// QEMU is the QEMU driver.
type QEMU struct {
	cfg QEMUConfig

	mu         sync.Mutex
	status     Status
	cmd        *exec.Cmd
	exited     chan struct{}
	enginePort int
}

var _ Driver = (*QEMU)(nil)

// NewQEMU makes a driver; nothing runs until Start.
func NewQEMU(cfg QEMUConfig) *QEMU {
	if cfg.CPUs == 0 {
		cfg.CPUs = 2
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 1024
	}
	if cfg.DiskGB == 0 {
		cfg.DiskGB = 32
	}
	if cfg.Binary == "" {
		cfg.Binary = "qemu-system-x86_64"
		if runtime.GOARCH == "arm64" {
			cfg.Binary = "qemu-system-aarch64"
		}
	}
	return &QEMU{cfg: cfg, status: Status{State: Stopped}}
}

// accel is the accelerator to use: the configured one, else the host's.
func (q *QEMU) accel() string {
	if q.cfg.Accel != "" {
		return q.cfg.Accel
	}
	switch runtime.GOOS {
	case "darwin":
		return "hvf"
	case "windows":
		return "whpx"
	case "linux":
		// /dev/kvm alone is not enough: inside a VM without nested
		// virtualisation (no vmx/svm flag) KVM guests hang at boot.
		cpu, _ := os.ReadFile("/proc/cpuinfo")
		if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
			f.Close()
			if strings.Contains(string(cpu), " vmx") || strings.Contains(string(cpu), " svm") {
				return "kvm"
			}
		}
	}
	return "tcg"
}

// Args is the QEMU command line (without the binary).
func (q *QEMU) Args(enginePort int) []string {
	c := q.cfg
	accel := q.accel()
	if accel != "tcg" {
		accel += ":tcg" // fall back to emulation if the accelerator refuses
	}
	machine := "accel=" + accel
	appendLine := "console=ttyS0 panic=-1 quiet"
	if len(c.EngineFlags) > 0 {
		appendLine += " berth.flags=" + strings.Join(c.EngineFlags, ",")
	}
	return []string{
		"-machine", machine, "-m", strconv.Itoa(c.MemoryMB), "-smp", strconv.Itoa(c.CPUs),
		"-kernel", c.Kernel, "-initrd", filepath.Join(c.Dir, "initrd.img"), "-append", appendLine,
		"-nographic", "-no-reboot", "-serial", "file:" + filepath.Join(c.Dir, "console.log"), "-monitor", "none",
		"-qmp", "unix:" + filepath.Join(c.Dir, "qmp.sock") + ",server=on,wait=off",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:2375", enginePort),
		"-device", "virtio-net-pci,netdev=n0,romfile=",
		"-drive", "file=" + filepath.Join(c.Dir, "data.img") + ",if=virtio,format=raw",
	}
}

func (q *QEMU) set(s State, reason string) {
	q.mu.Lock()
	q.status = Status{State: s, Reason: reason}
	if s == Failed {
		q.status.ConsoleTail = q.consoleTail(20)
	}
	q.mu.Unlock()
}

// Status is the VM's state now.
func (q *QEMU) Status() Status {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.status
}

func (q *QEMU) consoleTail(n int) string {
	data, _ := os.ReadFile(filepath.Join(q.cfg.Dir, "console.log"))
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Start boots the VM and waits for the engine to answer.
func (q *QEMU) Start(ctx context.Context) error {
	q.mu.Lock()
	if q.status.State == Running || q.status.State == Starting {
		q.mu.Unlock()
		return nil
	}
	q.status = Status{State: Starting}
	q.mu.Unlock()
	fail := func(err error) error {
		q.set(Failed, err.Error())
		return err
	}
	if err := os.MkdirAll(q.cfg.Dir, 0o700); err != nil {
		return fail(err)
	}
	for _, f := range []string{q.cfg.Kernel, q.cfg.Initrd} {
		if _, err := os.Stat(f); err != nil {
			return fail(fmt.Errorf("the VM image is missing (%v): build it with go run ./packaging/vm/mkimage: %w", err, engine.ErrNotFound))
		}
	}
	if err := q.ensureKeys(); err != nil {
		return fail(fmt.Errorf("the VM's engine keys: %w", err))
	}
	if _, err := q.initrd(); err != nil {
		return fail(err)
	}
	tlsCfg, err := q.clientTLS()
	if err != nil {
		return fail(err)
	}
	disk := filepath.Join(q.cfg.Dir, "data.img")
	if _, err := os.Stat(disk); errors.Is(err, os.ErrNotExist) {
		f, err := os.Create(disk)
		if err != nil {
			return fail(err)
		}
		err = f.Truncate(int64(q.cfg.DiskGB) << 30) // sparse: takes no space until written
		f.Close()
		if err != nil {
			return fail(err)
		}
	}
	os.Remove(filepath.Join(q.cfg.Dir, "console.log"))
	os.Remove(filepath.Join(q.cfg.Dir, "qmp.sock"))
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(q.cfg.Binary, q.Args(port)...)
	logf, _ := os.Create(filepath.Join(q.cfg.Dir, "qemu.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start %s: %w (install QEMU)", q.cfg.Binary, err))
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
		q.mu.Lock()
		if q.status.State != Stopped {
			q.status = Status{State: Failed, Reason: "the VM stopped unexpectedly", ConsoleTail: q.consoleTail(20)}
		}
		q.mu.Unlock()
	}()
	q.mu.Lock()
	q.cmd, q.exited, q.enginePort = cmd, exited, port
	q.mu.Unlock()
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	for {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/_ping", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				q.set(Running, "")
				return nil
			}
		}
		select {
		case <-exited:
			msg, _ := os.ReadFile(filepath.Join(q.cfg.Dir, "qemu.log"))
			return fail(fmt.Errorf("the VM stopped while starting: %s", strings.TrimSpace(string(msg))))
		case <-ctx.Done():
			cmd.Process.Kill()
			return fail(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// EngineAddress is the engine's address on the host while the VM runs;
// it speaks TLS and wants the client certificate in the VM's tls folder.
func (q *QEMU) EngineAddress() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return fmt.Sprintf("tcp://127.0.0.1:%d", q.enginePort)
}

// DialEngine connects to the engine in the VM.
func (q *QEMU) DialEngine(ctx context.Context) (net.Conn, error) {
	q.mu.Lock()
	port := q.enginePort
	q.mu.Unlock()
	if port == 0 {
		return nil, fmt.Errorf("the VM is not running: %w", engine.ErrUnavailable)
	}
	cfg, err := q.clientTLS()
	if err != nil {
		return nil, err
	}
	return (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
}

// Stop asks the VM to shut down (Ctrl-Alt-Del, which the VM's init turns
// into a clean stop of the engine), and kills it after the timeout.
func (q *QEMU) Stop(ctx context.Context) error {
	q.mu.Lock()
	cmd, exited := q.cmd, q.exited
	q.status = Status{State: Stopped}
	q.mu.Unlock()
	if cmd == nil {
		return nil
	}
	q.qmp(`{"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}}`)
	select {
	case <-exited:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-exited
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	q.mu.Lock()
	q.cmd, q.enginePort = nil, 0
	q.mu.Unlock()
	return nil
}

// ForwardPort opens hostIP:port on the host to the same port in the VM
// (QEMU's user network adds the forward; the host side listens).
func (q *QEMU) ForwardPort(ctx context.Context, hostIP string, port int) error {
	if hostIP == "" || hostIP == "0.0.0.0" {
		hostIP = "127.0.0.1" // a VM's ports stay on this computer unless asked otherwise
	}
	out, err := q.qmp(fmt.Sprintf(`{"execute":"human-monitor-command","arguments":{"command-line":"hostfwd_add n0 tcp:%s:%d-:%d"}}`, hostIP, port, port))
	if err != nil {
		return err
	}
	if strings.Contains(out, "Could not") {
		return fmt.Errorf("forward port %d: %s", port, strings.TrimSpace(out))
	}
	return nil
}

// qmp sends one command over QEMU's machine protocol and returns its answer.
func (q *QEMU) qmp(command string) (string, error) {
	c, err := net.DialTimeout("unix", filepath.Join(q.cfg.Dir, "qmp.sock"), 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("QMP: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil { // the greeting
		return "", fmt.Errorf("QMP: %w", err)
	}
	for _, cmd := range []string{`{"execute":"qmp_capabilities"}`, command} {
		if _, err := io.WriteString(c, cmd+"\n"); err != nil {
			return "", err
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return "", fmt.Errorf("QMP: %w", err)
			}
			var msg struct {
				Return json.RawMessage        `json:"return"`
				Error  *struct{ Desc string } `json:"error"`
			}
			if json.Unmarshal([]byte(line), &msg) != nil {
				continue
			}
			if msg.Error != nil {
				return "", fmt.Errorf("QMP: %s", msg.Error.Desc)
			}
			if msg.Return != nil {
				var s string
				json.Unmarshal(msg.Return, &s)
				if cmd == command {
					return s, nil
				}
				break
			}
		}
	}
	return "", nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
