package app

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/vm"
)

// VMImageArchive is the packaged VM image installers put beside the app's
// binary; the app unpacks it into the data directory on first use.
const VMImageArchive = "berth-vm-image.tar.gz"

// Progress hears how long work is going: fraction in [0, 1], or -1 when
// it cannot be told.
type Progress func(step string, fraction float64)

// vmImageDirs are where a ready VM image may be: beside the app's binary
// (vm/), a source checkout's dist/vm (packaging/dev/setup.sh puts the
// binary in bin/), and the data directory.
func vmImageDirs() (beside []string, data string) {
	if exe, err := os.Executable(); err == nil {
		beside = append(beside, filepath.Join(filepath.Dir(exe), "vm"), filepath.Join(filepath.Dir(exe), "..", "dist", "vm"))
	}
	if d, err := os.UserCacheDir(); err == nil {
		data = filepath.Join(d, "berth", "vm")
	}
	return beside, data
}

func hasVMImage(dir string) bool {
	for _, f := range []string{"vmlinux", "initramfs.cpio"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return dir != ""
}

// EnsureVMImage finds the VM image, or makes it on first use: a ready
// image beside the binary; else the packaged archive beside the binary,
// unpacked into the data directory (again when a new release brings a
// different one); else one unpacked before; else, in a source checkout,
// one built there with mkimage. BERTH_VM_IMAGE names an image directory
// or archive to use instead (for packagers and tests).
func EnsureVMImage(ctx context.Context, progress Progress) (string, error) {
	beside, data := vmImageDirs()
	archive := os.Getenv("BERTH_VM_IMAGE")
	if archive != "" && hasVMImage(archive) {
		return archive, nil
	}
	if archive == "" {
		for _, d := range beside {
			if hasVMImage(d) {
				return d, nil
			}
		}
		if exe, err := os.Executable(); err == nil {
			if a := filepath.Join(filepath.Dir(exe), VMImageArchive); fileExists(a) {
				archive = a
			}
		}
	}
	if data == "" {
		return "", fmt.Errorf("no data directory for Berth's VM image: %w", engine.ErrNotFound)
	}
	if archive != "" {
		if hasVMImage(data) && sameSums(archive, data) {
			return data, nil
		}
		return data, UnpackVMImage(ctx, archive, data, progress)
	}
	if hasVMImage(data) {
		return data, nil
	}
	if exe, err := os.Executable(); err == nil {
		if src := sourceTree(filepath.Dir(exe)); src != "" {
			return data, buildVMImage(ctx, src, data, progress)
		}
	}
	return "", fmt.Errorf("Berth's VM image is missing: reinstall Berth (it ships %s beside the app), or build it with go run ./packaging/vm/mkimage -out dist/vm (looked in %v): %w",
		VMImageArchive, append(beside, data), engine.ErrNotFound)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// UnpackVMImage unpacks a VM image archive into dir, checking every file
// against the archive's SHA256SUMS. The files appear in dir only when all
// are there and sound.
func UnpackVMImage(ctx context.Context, archive, dir string, progress Progress) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".vm-unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	counted := &countingReader{r: bufio.NewReaderSize(f, 1<<20)}
	zr, err := gzip.NewReader(counted)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", archive, err)
	}
	sums := map[string]string{}
	got := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
		name := filepath.Base(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || name != hdr.Name {
			return fmt.Errorf("unpack %s: unexpected entry %q", archive, hdr.Name)
		}
		h := sha256.New()
		out, err := os.Create(filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		w := io.MultiWriter(out, h)
		for {
			_, err = io.CopyN(w, tr, 4<<20)
			if progress != nil {
				progress("Unpacking Berth's VM image (first use)", float64(counted.n)/float64(max(fi.Size(), 1)))
			}
			if err != nil || ctx.Err() != nil {
				break
			}
		}
		out.Close()
		if err != io.EOF {
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("unpack %s: %w", archive, err)
		}
		got[name] = hex.EncodeToString(h.Sum(nil))
		if name == "SHA256SUMS" {
			for _, line := range strings.Split(mustReadString(filepath.Join(tmp, name)), "\n") {
				if sum, file, ok := strings.Cut(line, "  "); ok {
					sums[file] = sum
				}
			}
		}
	}
	if len(sums) == 0 {
		return fmt.Errorf("unpack %s: the archive has no SHA256SUMS", archive)
	}
	for file, sum := range sums {
		if got[file] != sum {
			return fmt.Errorf("unpack %s: %s is damaged (sha256 %s, want %s): download Berth again", archive, file, got[file], sum)
		}
	}
	if !hasVMImage(tmp) {
		return fmt.Errorf("unpack %s: the archive lacks vmlinux or initramfs.cpio", archive)
	}
	os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

// sameSums says whether the image unpacked in dir is the one in archive
// (their SHA256SUMS match), so a new release's image replaces the old.
func sameSums(archive, dir string) bool {
	f, err := os.Open(archive)
	if err != nil {
		return false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != "SHA256SUMS" {
		return false
	}
	sums, err := io.ReadAll(tr)
	return err == nil && string(sums) == mustReadString(filepath.Join(dir, "SHA256SUMS"))
}

func mustReadString(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// sourceTree is the Berth checkout the binary was built in, if any.
func sourceTree(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/berth-dev/berth\n")) {
			if _, err := os.Stat(filepath.Join(d, "packaging", "vm", "mkimage")); err == nil {
				return d
			}
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func buildVMImage(ctx context.Context, src, dir string, progress Progress) error {
	if progress != nil {
		progress("Building Berth's VM image from Debian packages (first use)", -1)
	}
	cmd := exec.CommandContext(ctx, "go", "run", "./packaging/vm/mkimage", "-out", dir)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("build the VM image: %v\n%s", err, out)
	}
	return nil
}

// VMStatus is the VM's state for the status bar: stopped, starting,
// running or failed, with the reason and the console's last lines when
// it failed.
type VMStatus struct {
	State       string
	Reason      string
	ConsoleTail string
}

// Line is the status bar's text for the state.
func (s VMStatus) Line() string {
	switch s.State {
	case string(vm.Running):
		if s.Reason != "" {
			return "Berth's VM is running; " + s.Reason
		}
		return "Berth's VM is running"
	case string(vm.Starting):
		if s.Reason != "" {
			return "Berth's VM is starting again (" + s.Reason + ")…"
		}
		return "Starting Berth's VM…"
	case string(vm.Failed):
		return "Berth's VM failed: " + s.Reason
	}
	return "Berth's VM is stopped"
}

// VM is Berth's VM as the app holds it: the helper serving the engine's
// socket, and the VM's state.
type VM struct {
	helper *vm.Helper
	// elsewhere: another Berth (berth vm start in a terminal) serves the
	// VM; the app uses its engine and leaves the VM to it (helper is nil).
	elsewhere *Settings

	mu     sync.Mutex
	report func(VMStatus) // Supervise's, for news between changes of state
}

// portError tells the app that a published port could not be opened on
// this computer: the container runs, but cannot be reached here.
func (v *VM) portError(port string, err error) {
	v.mu.Lock()
	report := v.report
	v.mu.Unlock()
	if report != nil {
		report(VMStatus{State: string(vm.Running), Reason: "port " + port + " is in use by another program on this computer, so the container's port cannot be reached there: stop that program, or publish another port"})
	}
}

// Status is the VM's state now.
func (v *VM) Status() VMStatus {
	if v.helper == nil {
		return v.elsewhereStatus()
	}
	st := v.helper.Driver.Status()
	return VMStatus{State: string(st.State), Reason: st.Reason, ConsoleTail: st.ConsoleTail}
}

func (v *VM) elsewhereStatus() VMStatus {
	st, err := ProbeVM(context.Background(), *v.elsewhere)
	switch {
	case err == nil && st.Served:
		return VMStatus{State: string(vm.Running), Reason: "served by berth vm start"}
	case err == nil && st.Running:
		return VMStatus{State: string(vm.Failed), Reason: "berth vm start no longer serves the VM: run it again, or restart the app to serve it here"}
	}
	return VMStatus{State: string(vm.Failed), Reason: "the VM that berth vm start served has stopped: restart the app to start it"}
}

// Stop shuts the VM down cleanly; one that berth vm start serves is left
// to it.
func (v *VM) Stop(ctx context.Context) error {
	if v.helper == nil {
		return nil
	}
	return v.helper.Stop(ctx)
}

// Detach lets go of the VM and leaves it running with its containers
// (keep_running); the next ConnectVM adopts it instead of booting.
func (v *VM) Detach() {
	if v.helper != nil {
		v.helper.Detach()
	}
}

// Supervise restarts the VM after a crash (three quick failures in a row
// and it gives up) and reports each change until ctx ends or Stop. A VM
// that berth vm start serves is its to restart: the app reports what it
// sees every few seconds.
func (v *VM) Supervise(ctx context.Context, report func(VMStatus)) {
	v.mu.Lock()
	v.report = report
	v.mu.Unlock()
	if v.helper == nil {
		last := VMStatus{}
		for {
			if st := v.elsewhereStatus(); st != last {
				report(st)
				last = st
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}
	v.helper.Supervise(ctx, 3, func(st vm.Status) {
		report(VMStatus{State: string(st.State), Reason: st.Reason, ConsoleTail: st.ConsoleTail})
	})
}

// Crash kills the VM as a crash would (for tests of the recovery).
func (v *VM) Crash() {
	if v.helper == nil {
		return
	}
	if k, ok := v.helper.Driver.(interface{ Kill() }); ok {
		k.Kill()
	}
}

// DefaultVMStateDir is where the VM's disk (the user's images and
// containers), keys and console log live unless [vm] state_dir names
// another folder. It is a data directory, never a cache that a cleaner
// may empty: ~/Library/Application Support/Berth/vm on macOS,
// %LOCALAPPDATA%\Berth\vm on Windows (not the roaming profile: the disk
// is large), $XDG_DATA_HOME/berth/vm (~/.local/share) elsewhere. A state
// folder left in the cache by earlier builds moves there.
func DefaultVMStateDir() (string, error) {
	dir, err := vmStateDir(runtime.GOOS)
	if err != nil {
		return "", fmt.Errorf("the VM's folder: %w", err)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		old := filepath.Join(cache, "berth", "vm-state")
		if fileExists(filepath.Join(old, "data.img")) && !fileExists(dir) {
			os.MkdirAll(filepath.Dir(dir), 0o700)
			if os.Rename(old, dir) != nil {
				return old, nil // another filesystem: keep using it rather than copy gigabytes
			}
		}
	}
	return dir, nil
}

func vmStateDir(goos string) (string, error) {
	switch goos {
	case "darwin":
		d, err := os.UserConfigDir() // ~/Library/Application Support
		return filepath.Join(d, "Berth", "vm"), err
	case "windows":
		d, err := os.UserCacheDir() // %LOCALAPPDATA%
		return filepath.Join(d, "Berth", "vm"), err
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "berth", "vm"), nil
	}
	home, err := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "berth", "vm"), err
}

// vmStateDirFor is the settings' state_dir, else the default.
func vmStateDirFor(s Settings) (string, error) {
	if s.VM.StateDir != "" {
		return s.VM.StateDir, nil
	}
	return DefaultVMStateDir()
}

// vmDriver is the QEMU driver the settings describe, booting the image in
// img (which may be "" when only an existing VM is looked at).
func vmDriver(s Settings, img string) (*vm.QEMU, string, error) {
	dir, err := vmStateDirFor(s)
	if err != nil {
		return nil, "", err
	}
	var flags []string
	for _, r := range s.InsecureRegistries {
		flags = append(flags, "--insecure-registry="+r)
	}
	var shares []string
	if runtime.GOOS != "windows" { // QEMU for Windows has no 9p server
		if shares, err = s.VM.SharedFolders(); err != nil {
			return nil, "", err
		}
	}
	return vm.NewQEMU(vm.QEMUConfig{Dir: dir, Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"),
		CPUs: s.VM.CPUs, MemoryMB: s.VM.MemoryMB, DiskGB: s.VM.DiskGB, EngineFlags: flags, Shares: shares}), dir, nil
}

// VMState is what runs of Berth's VM: whether the VM runs, and whether a
// helper (the app, berth vm start) serves its engine on Socket.
type VMState struct {
	Running, Served bool
	Socket          string // the engine's address, DOCKER_HOST form
}

// ProbeVM looks at Berth's VM without starting or taking over anything.
func ProbeVM(ctx context.Context, s Settings) (VMState, error) {
	q, dir, err := vmDriver(s, "")
	if err != nil {
		return VMState{}, err
	}
	st := VMState{Socket: vm.SocketAddress(vm.DefaultSocket(dir)), Running: q.Running()}
	if st.Running {
		if c, err := client.New(st.Socket); err == nil {
			pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := c.Version(pingCtx)
			cancel()
			st.Served = err == nil
		}
	}
	return st, nil
}

// ConnectRunningVM connects to the engine of Berth's VM as another Berth
// (the app, berth vm start) serves it; terminal commands use it.
func ConnectRunningVM(ctx context.Context, s Settings) (*Connection, error) {
	st, err := ProbeVM(ctx, s)
	if err != nil {
		return nil, err
	}
	switch {
	case !st.Running:
		return nil, errors.New("Berth's VM is not running: start it with berth vm start, or open the app")
	case !st.Served:
		return nil, errors.New("Berth's VM is running, but nothing serves its engine (it was left running): berth vm start serves it again")
	}
	c, err := client.New(st.Socket)
	if err != nil {
		return nil, err
	}
	v, err := c.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("the engine in Berth's VM does not answer: %w", err)
	}
	return &Connection{Client: c, Address: st.Socket, Server: v, Status: "Berth's engine is running in its VM (" + v.Version + ")"}, nil
}

// StopIdleVM stops Berth's VM when it runs with nobody serving it (left
// running by keep_running); one the app or berth vm start serves is
// theirs to stop. It reports whether there was one to stop.
func StopIdleVM(ctx context.Context, s Settings) (bool, error) {
	st, err := ProbeVM(ctx, s)
	if err != nil || !st.Running {
		return false, err
	}
	if st.Served {
		return false, fmt.Errorf("Berth's VM is in use by the app or berth vm start (%s): quit that to stop it", st.Socket)
	}
	q, _, err := vmDriver(s, "")
	if err != nil {
		return false, err
	}
	if !q.Attach() {
		return false, nil // it stopped meanwhile
	}
	return true, q.Stop(ctx)
}

// ConnectVM starts Berth's VM (sized by the settings), making its image
// first if this is the first use, and connects to the engine in it
// through the helper's socket.
func ConnectVM(ctx context.Context, s Settings, progress Progress) (*Connection, *VM, error) {
	// berth vm start in a terminal serves it already: use its engine rather
	// than take the VM over from under it.
	if st, err := ProbeVM(ctx, s); err == nil && st.Served {
		if conn, err := ConnectRunningVM(ctx, s); err == nil {
			return conn, &VM{elsewhere: &s}, nil
		}
	}
	img, err := EnsureVMImage(ctx, progress)
	if err != nil {
		return nil, nil, err
	}
	q, dir, err := vmDriver(s, img)
	if err != nil {
		return nil, nil, err
	}
	v := &VM{}
	h := &vm.Helper{Driver: q, Socket: vm.DefaultSocket(dir), PortError: v.portError}
	v.helper = h
	if progress != nil {
		progress("Starting Berth's VM…", -1)
	}
	if err := h.Start(ctx); err != nil {
		st := q.Status()
		return nil, nil, fmt.Errorf("Berth's VM did not start: %w\n%s", err, st.ConsoleTail)
	}
	c, err := client.New(vm.SocketAddress(h.Socket))
	if err != nil {
		h.Stop(context.Background())
		return nil, nil, err
	}
	ver, err := c.Version(ctx)
	if err != nil {
		h.Stop(context.Background())
		return nil, nil, fmt.Errorf("the engine in Berth's VM does not answer: %w", err)
	}
	return &Connection{Client: c, Address: vm.SocketAddress(h.Socket), Server: ver, Status: "Berth's engine is running in its VM (" + ver.Version + ")"}, v, nil
}
