package vm

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-qemu/qmp"

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
	// Shares are host folders the VM sees at the same paths (9p), so a
	// bind mount of a host folder means that folder. QEMU for Windows
	// has no 9p server: leave it empty there.
	Shares []string
}

// QEMU is the QEMU driver.
type QEMU struct {
	cfg QEMUConfig

	// noQboot is set once QEMU has refused the qboot firmware (a build
	// without it); SeaBIOS then boots the VM, 0.3 s slower.
	noQboot bool

	mu         sync.Mutex
	status     Status
	proc       *os.Process // QEMU: started here, or adopted (see adopt)
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
		// The image is x86_64 (packaging/vm builds from Debian's amd64
		// packages), so an arm64 host (Apple silicon) emulates it too.
		cfg.Binary = "qemu-system-x86_64"
	}
	return &QEMU{cfg: cfg, status: Status{State: Stopped}}
}

// accel is the accelerator to use: the configured one, else the host's.
func (q *QEMU) accel() string {
	return pickAccel(q.cfg.Accel, runtime.GOOS, runtime.GOARCH)
}

// pickAccel chooses the accelerator: the configured one; else the host's
// hypervisor when it runs the image's x86_64 natively; else emulation.
func pickAccel(configured, goos, goarch string) string {
	if configured != "" {
		return configured
	}
	if goarch != "amd64" {
		return "tcg" // a hypervisor runs only its own CPU's code
	}
	switch goos {
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
	// The CPU must offer RDRAND: without it the guest kernel's random
	// generator starts seconds late, and every TLS handshake (the engine's
	// channel) and mke2fs wait for it. Under emulation, QEMU's basic model
	// plus RDRAND boots faster than "max".
	cpu := "max"
	if accel == "tcg" {
		cpu = "qemu64,+rdrand"
	}
	appendLine := "console=ttyS0 panic=-1 quiet " + bootSpeedups
	if len(c.EngineFlags) > 0 {
		appendLine += " berth.flags=" + strings.Join(c.EngineFlags, ",")
	}
	var shares, shareArgs []string
	for i, dir := range c.Shares {
		tag := fmt.Sprintf("share%d", i)
		// security_model=none: files keep the host user's ownership, and
		// the VM's root acts as that user there.
		shareArgs = append(shareArgs, "-virtfs", fmt.Sprintf("local,path=%s,mount_tag=%s,security_model=none,multidevs=remap", optValue(dir), tag))
		shares = append(shares, tag+":"+url.PathEscape(filepath.ToSlash(dir)))
	}
	if len(shares) > 0 {
		appendLine += " berth.shares=" + strings.Join(shares, ",")
	}
	var firmware []string
	if q.useQboot() {
		// A minimal firmware: the kernel starts 0.3 s sooner than after SeaBIOS.
		firmware = []string{"-bios", "qboot.rom"}
	}
	args := append(firmware,
		// -nodefaults: no VGA card, floppy or CD-ROM for the guest to probe.
		"-nodefaults", "-vga", "none", "-cpu", cpu,
		"-machine", machine, "-m", strconv.Itoa(c.MemoryMB), "-smp", strconv.Itoa(c.CPUs),
		"-kernel", c.Kernel, "-initrd", filepath.Join(c.Dir, "initrd.img"), "-append", appendLine,
		"-pidfile", filepath.Join(c.Dir, "qemu.pid"),
		"-nographic", "-no-reboot", "-serial", "file:"+filepath.Join(c.Dir, "console.log"), "-monitor", "none",
		"-qmp", "unix:"+optValue(filepath.Join(c.Dir, "qmp.sock"))+",server=on,wait=off",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:2375", enginePort),
		"-device", "virtio-net-pci,netdev=n0,romfile=",
		// discard=unmap: the guest's freed blocks become holes in data.img.
		"-drive", "file="+optValue(filepath.Join(c.Dir, "data.img"))+",if=virtio,format=raw,discard=unmap",
	)
	return append(args, shareArgs...)
}

// optValue escapes a path inside a QEMU option list, where a comma
// separates options ("Smith, Jo" in a home folder's name): QEMU reads a
// doubled comma as one.
func optValue(path string) string { return strings.ReplaceAll(path, ",", ",,") }

// installQEMU says how to install QEMU on this system.
func installQEMU(goos string) string {
	switch goos {
	case "darwin":
		return "install it with brew install qemu"
	case "windows":
		return "install it from qemu.org (Windows builds) and add its folder to PATH"
	}
	return "install your distribution's qemu-system-x86 package"
}

// minQEMUWindows is the oldest QEMU the driver can use on Windows: its machine
// protocol channel is a unix socket (private to the user by the folder's
// permissions), which QEMU for Windows has offered since 7.1.
var minQEMUWindows = [2]int{7, 1}

// checkQEMUVersion refuses a QEMU too old for this system, with what to do.
func checkQEMUVersion(binary, goos string) error {
	if goos != "windows" {
		return nil
	}
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		return fmt.Errorf("run %s --version: %w (Berth's VM runs in QEMU %d.%d or newer: %s)", binary, err, minQEMUWindows[0], minQEMUWindows[1], installQEMU(goos))
	}
	v, ok := parseQEMUVersion(string(out))
	if ok && (v[0] < minQEMUWindows[0] || v[0] == minQEMUWindows[0] && v[1] < minQEMUWindows[1]) {
		return fmt.Errorf("QEMU %d.%d is too old: Berth's VM needs QEMU %d.%d or newer on Windows; install a newer one from qemu.org", v[0], v[1], minQEMUWindows[0], minQEMUWindows[1])
	}
	return nil
}

// parseQEMUVersion reads "QEMU emulator version 7.2.22 (Debian …)".
func parseQEMUVersion(out string) ([2]int, bool) {
	_, rest, ok := strings.Cut(out, "version ")
	if !ok {
		return [2]int{}, false
	}
	fields := strings.SplitN(strings.Fields(rest + " ")[0], ".", 3)
	if len(fields) < 2 {
		return [2]int{}, false
	}
	major, err1 := strconv.Atoi(fields[0])
	minor, err2 := strconv.Atoi(fields[1])
	return [2]int{major, minor}, err1 == nil && err2 == nil
}

// bootSpeedups are kernel parameters that take a second off a boot under
// emulation (measured with initcall_debug; BenchmarkVMBoot):
//   - pci=noacpi: routing the virtio devices' interrupts through ACPI
//     costs 0.3 s; the firmware's table serves;
//   - cryptomgr.notests and the kdf108 self-test: the kernel's crypto
//     self-tests (0.3 s) guard FIPS setups, not this VM;
//   - init_kprobe_trace, load_system_certificate_list: kprobe tracing and
//     the module-signing keys; the image's modules are unsigned (mkimage
//     strips the signatures) and vouched for by its checksums.
const bootSpeedups = "pci=noacpi cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_kprobe_trace,load_system_certificate_list"

func (q *QEMU) useQboot() bool {
	return !q.noQboot && strings.HasSuffix(strings.TrimSuffix(filepath.Base(q.cfg.Binary), ".exe"), "x86_64")
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
	if err := checkQEMUVersion(q.cfg.Binary, runtime.GOOS); err != nil {
		return fail(err)
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
	if q.adopt(tlsCfg) {
		q.set(Running, "")
		return nil
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
	// Its own process group: a Ctrl-C in the terminal that started the app
	// reaches the app, which stops the VM cleanly, and not QEMU, which
	// would drop the guest mid-write.
	cmd.SysProcAttr = ownProcessGroup()
	os.Remove(filepath.Join(q.cfg.Dir, "qemu.pid"))
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start %s: %w (Berth's VM runs in QEMU: %s)", q.cfg.Binary, err, installQEMU(runtime.GOOS)))
	}
	// What a later run needs to adopt this VM (QEMU writes qemu.pid).
	os.WriteFile(filepath.Join(q.cfg.Dir, "engine.port"), []byte(strconv.Itoa(port)+"\n"), 0o600)
	exited := q.watch(func() { cmd.Wait(); logf.Close() })
	q.mu.Lock()
	q.proc, q.exited, q.enginePort = cmd.Process, exited, port
	q.mu.Unlock()
	// The guest's init announces on the console when the engine listens;
	// only then does the host ask. Probing earlier does not find it
	// sooner: QEMU holds early connections until its half-second retry
	// timer, and two dozen waiting TLS handshakes then contend for the
	// emulated CPUs.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}}
	console := filepath.Join(q.cfg.Dir, "console.log")
	started := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			data, _ := os.ReadFile(console)
			if !bytes.Contains(data, []byte(engineListening)) && time.Since(started) < 20*time.Second {
				continue // (an image without the announcement is probed after 20 s)
			}
			resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/_ping", port))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					q.set(Running, "")
					return nil
				}
			}
		case <-exited:
			msg, _ := os.ReadFile(filepath.Join(q.cfg.Dir, "qemu.log"))
			if q.useQboot() && strings.Contains(string(msg), "qboot") {
				q.noQboot = true
				q.mu.Lock()
				q.status = Status{State: Stopped}
				q.mu.Unlock()
				return q.Start(ctx)
			}
			return fail(fmt.Errorf("the VM stopped while starting: %s", strings.TrimSpace(string(msg))))
		case <-ctx.Done():
			cmd.Process.Kill()
			<-exited
			return fail(ctx.Err())
		}
	}
}

// watch runs wait (which returns when QEMU has exited) and returns a
// channel closed then; an exit nobody asked for is a failure.
func (q *QEMU) watch(wait func()) chan struct{} {
	exited := make(chan struct{})
	go func() {
		wait()
		q.mu.Lock()
		if q.status.State != Stopped {
			q.status = Status{State: Failed, Reason: "the VM stopped unexpectedly", ConsoleTail: q.consoleTail(20)}
		}
		q.mu.Unlock()
		close(exited)
	}()
	return exited
}

// adopt takes over the VM an earlier run left running on this folder (the
// app quit with keep_running, or crashed): that QEMU holds the disk's
// lock, so a second could not boot, and its containers are still up. It
// is adopted when its QMP socket answers (so the process is this
// folder's QEMU) and the engine inside answers with this folder's keys.
// One that is stuck is stopped, and Start boots afresh.
func (q *QEMU) adopt(tlsCfg *tls.Config) bool {
	pid, ok := q.runningPID()
	if !ok {
		return false
	}
	portText, _ := os.ReadFile(filepath.Join(q.cfg.Dir, "engine.port"))
	port, _ := strconv.Atoi(strings.TrimSpace(string(portText)))
	if port <= 0 {
		return false
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	exited := q.watch(func() { waitProcess(proc) })
	q.mu.Lock()
	q.proc, q.exited, q.enginePort = proc, exited, port
	q.mu.Unlock()
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableKeepAlives: true}}
	for try := 0; try < 3; try++ {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/_ping", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				q.dropForwards(port)
				return true
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	q.mu.Lock()
	q.status = Status{State: Stopped} // an exit asked for
	q.mu.Unlock()
	proc.Kill()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
	}
	q.mu.Lock()
	q.status = Status{State: Starting}
	q.proc, q.enginePort = nil, 0
	q.mu.Unlock()
	return false
}

// runningPID is the pid of the QEMU running this folder's VM, if one is:
// the process in qemu.pid lives and the folder's QMP socket answers (so
// it is that QEMU, not a process that took over a stale pid).
func (q *QEMU) runningPID() (int, bool) {
	pidText, err := os.ReadFile(filepath.Join(q.cfg.Dir, "qemu.pid"))
	if err != nil {
		return 0, false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if pid <= 0 || !processAlive(pid) {
		return 0, false
	}
	if _, err := q.qmp(`{"execute":"query-status"}`); err != nil {
		return 0, false
	}
	return pid, true
}

// Running says whether an earlier run left this folder's VM running,
// without taking it over.
func (q *QEMU) Running() bool {
	_, ok := q.runningPID()
	return ok
}

// Attach takes over this folder's VM if an earlier run left it running
// (see adopt), and boots nothing; it reports whether there was one.
func (q *QEMU) Attach() bool {
	tlsCfg, err := q.clientTLS()
	if err != nil {
		return false // no keys: no VM was ever made here
	}
	if !q.adopt(tlsCfg) {
		q.set(Stopped, "")
		return false
	}
	q.set(Running, "")
	return true
}

// dropForwards closes the published ports an adopted VM still forwards
// (all but the engine's): the helper opens those of the running
// containers afresh, and those of containers that ended meanwhile go.
func (q *QEMU) dropForwards(enginePort int) {
	out, err := q.monitor("info usernet")
	if err != nil {
		return
	}
	for _, f := range parseHostForwards(out) {
		if f.proto != "tcp" || f.port != enginePort {
			q.monitor(fmt.Sprintf("hostfwd_remove n0 %s:%s:%d", f.proto, f.ip, f.port))
		}
	}
}

// parseHostForwards reads the host-side address of each forward in
// "info usernet":
//
//	TCP[HOST_FORWARD]  13       127.0.0.1 36471       10.0.2.15  2375     0     0
//	UDP[HOST_FORWARD]  15       127.0.0.1 40053       10.0.2.15    53     0     0
func parseHostForwards(info string) []hostPort {
	var out []hostPort
	for _, line := range strings.Split(info, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasSuffix(f[0], "[HOST_FORWARD]") {
			continue
		}
		proto := strings.ToLower(strings.TrimSuffix(f[0], "[HOST_FORWARD]"))
		if port, err := strconv.Atoi(f[3]); err == nil && (proto == "tcp" || proto == "udp") {
			out = append(out, hostPort{proto, f[2], port})
		}
	}
	return out
}

// engineListening is what the VM's init writes on the console once the
// engine accepts connections.
const engineListening = "berth-init: engine listening"

// Done is closed when the VM the last Start booted stops.
func (q *QEMU) Done() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.exited == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return q.exited
}

// Kill ends the VM at once, as a crash would (for tests and a
// last resort).
func (q *QEMU) Kill() {
	q.mu.Lock()
	proc := q.proc
	q.mu.Unlock()
	if proc != nil {
		proc.Kill()
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
	proc, exited := q.proc, q.exited
	q.status = Status{State: Stopped}
	q.mu.Unlock()
	if proc == nil {
		return nil
	}
	q.qmp(`{"execute":"send-key","arguments":{"keys":[{"type":"qcode","data":"ctrl"},{"type":"qcode","data":"alt"},{"type":"qcode","data":"delete"}]}}`)
	select {
	case <-exited:
	case <-ctx.Done():
		proc.Kill()
		<-exited
	case <-time.After(30 * time.Second):
		proc.Kill()
		<-exited
	}
	q.mu.Lock()
	q.proc, q.enginePort = nil, 0
	q.mu.Unlock()
	return nil
}

// ForwardPort opens hostIP:port on the host to the same port in the VM
// (QEMU's user network adds the forward; the host side listens).
func (q *QEMU) ForwardPort(ctx context.Context, proto, hostIP string, port int) error {
	rule := fmt.Sprintf("%s:%s:%d", proto, forwardIP(hostIP), port)
	out, err := q.monitor("hostfwd_add n0 " + rule + fmt.Sprintf("-:%d", port))
	if err != nil {
		return fmt.Errorf("forward port %d: %w", port, err)
	}
	if strings.Contains(out, "Could not") {
		return fmt.Errorf("forward port %d: %s (is another program using it?): %w", port, strings.TrimSpace(out), engine.ErrConflict)
	}
	return nil
}

// UnforwardPort closes the host side of a forward, freeing the port.
func (q *QEMU) UnforwardPort(ctx context.Context, proto, hostIP string, port int) error {
	rule := fmt.Sprintf("%s:%s:%d", proto, forwardIP(hostIP), port)
	out, err := q.monitor("hostfwd_remove n0 " + rule)
	if err != nil {
		return fmt.Errorf("close forwarded port %d: %w", port, err)
	}
	if !strings.Contains(out, "removed") {
		return fmt.Errorf("close forwarded port %d: %s", port, strings.TrimSpace(out))
	}
	return nil
}

// forwardIP is the host address a published port opens on: a VM's ports
// stay on this computer unless an address is named.
func forwardIP(hostIP string) string {
	if hostIP == "" || hostIP == "0.0.0.0" {
		return "127.0.0.1"
	}
	return hostIP
}

// monitor runs a human monitor command (QEMU has no QMP command for user
// network forwards).
func (q *QEMU) monitor(command string) (string, error) {
	arg, _ := json.Marshal(command)
	return q.qmp(`{"execute":"human-monitor-command","arguments":{"command-line":` + string(arg) + `}}`)
}

// qmp sends one command over QEMU's machine protocol (go-qemu's client,
// as lima uses) and returns its answer's string, if it has one. A QEMU
// that does not answer within 5 s is given up on: the client itself has
// no deadline, and a stuck VM must not hang the app.
func (q *QEMU) qmp(command string) (string, error) {
	mon, err := qmp.NewSocketMonitor("unix", filepath.Join(q.cfg.Dir, "qmp.sock"), 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("QMP: %w", err)
	}
	type answer struct {
		raw []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		if err := mon.Connect(); err != nil {
			done <- answer{nil, err}
			return
		}
		raw, err := mon.Run([]byte(command))
		done <- answer{raw, err}
	}()
	var a answer
	select {
	case a = <-done:
	case <-time.After(5 * time.Second):
		a.err = errors.New("QEMU did not answer in 5 s")
	}
	mon.Disconnect()
	if a.err != nil {
		return "", fmt.Errorf("QMP: %w", a.err)
	}
	var msg struct {
		Return json.RawMessage `json:"return"`
	}
	json.Unmarshal(a.raw, &msg)
	var out string
	json.Unmarshal(msg.Return, &out)
	return out, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
