package vm

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParseQEMUVersion(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want [2]int
		ok   bool
	}{
		{"QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright", [2]int{7, 2}, true},
		{"QEMU emulator version 10.1.0 (v10.1.0-12028-g2e1a3c5f1e)\n", [2]int{10, 1}, true},
		{"QEMU emulator version 6.2\n", [2]int{6, 2}, true},
		{"qemu-system-x86_64: unknown option\n", [2]int{}, false},
		{"QEMU emulator version x.y\n", [2]int{}, false},
	} {
		got, ok := parseQEMUVersion(tc.out)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: %v %v, want %v %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
}

// On Windows the machine protocol needs QEMU 7.1's unix sockets: an older
// QEMU gets a clear refusal, not a VM that cannot be stopped.
func TestCheckQEMUVersion(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in QEMU is a shell script")
	}
	bin := t.TempDir()
	fake := func(name, version string) string {
		p := filepath.Join(bin, name)
		os.WriteFile(p, []byte("#!/bin/sh\necho 'QEMU emulator version "+version+" (test)'\n"), 0o755)
		return p
	}
	old, current := fake("old", "7.0.0"), fake("current", "8.2.2")
	if err := checkQEMUVersion(old, "windows"); err == nil || !strings.Contains(err.Error(), "7.1 or newer") {
		t.Errorf("QEMU 7.0 on Windows: %v, want a refusal naming 7.1", err)
	}
	if err := checkQEMUVersion(current, "windows"); err != nil {
		t.Errorf("QEMU 8.2 on Windows: %v", err)
	}
	if err := checkQEMUVersion(old, "darwin"); err != nil {
		t.Errorf("QEMU 7.0 on macOS: %v (unix sockets are native there)", err)
	}
}

// Paths inside QEMU's option lists survive a comma in a folder's name.
func TestArgsEscapeCommas(t *testing.T) {
	q := NewQEMU(QEMUConfig{Dir: "/Users/Smith, Jo/berth", Kernel: "/k", Initrd: "/i", Accel: "tcg"})
	args := strings.Join(q.Args(2375), " ")
	for _, want := range []string{"unix:/Users/Smith,, Jo/berth/qmp.sock,server=on", "file=/Users/Smith,, Jo/berth/data.img,if=virtio,format=raw,discard=unmap"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
}

// "info usernet" as QEMU 7.2 prints it: the host side of each forward.
func TestParseHostForwards(t *testing.T) {
	info := "Hub -1 (n0):\r\n" +
		"  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n" +
		"  TCP[HOST_FORWARD]  15       127.0.0.1 40123       10.0.2.15  8080     0     0\r\n" +
		"  TCP[HOST_FORWARD]  13       127.0.0.1 36471       10.0.2.15  2375     0     0\r\n" +
		"  TCP[ESTABLISHED]   22       127.0.0.1 36471       10.0.2.15  2375     0     0\r\n" +
		"  UDP[HOST_FORWARD]  16       127.0.0.1 40053       10.0.2.15    53     0     0\r\n" +
		"  UDP[236 sec]       24       10.0.2.15 35678        10.0.2.2     9     0     0\r\n"
	got := parseHostForwards(info)
	want := []hostPort{{"tcp", "127.0.0.1", 40123}, {"tcp", "127.0.0.1", 36471}, {"udp", "127.0.0.1", 40053}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The x86_64 image runs under the host's hypervisor only on x86_64
// hosts; an arm64 host (Apple silicon) emulates it.
func TestPickAccel(t *testing.T) {
	for _, tc := range []struct{ configured, goos, goarch, want string }{
		{"", "darwin", "amd64", "hvf"},
		{"", "windows", "amd64", "whpx"},
		{"", "darwin", "arm64", "tcg"},
		{"", "windows", "arm64", "tcg"},
		{"", "freebsd", "amd64", "tcg"},
		{"kvm", "darwin", "arm64", "kvm"}, // what the settings say
	} {
		if got := pickAccel(tc.configured, tc.goos, tc.goarch); got != tc.want {
			t.Errorf("%q on %s/%s: %s, want %s", tc.configured, tc.goos, tc.goarch, got, tc.want)
		}
	}
	if q := NewQEMU(QEMUConfig{}); q.cfg.Binary != "qemu-system-x86_64" {
		t.Errorf("binary %s, want the image's qemu-system-x86_64 on every host", q.cfg.Binary)
	}
}

// Without QEMU the VM says what to install.
func TestStartWithoutQEMU(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"vmlinux", "initramfs.cpio"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
	}
	q := NewQEMU(QEMUConfig{Dir: filepath.Join(dir, "state"), Kernel: filepath.Join(dir, "vmlinux"), Initrd: filepath.Join(dir, "initramfs.cpio"), Binary: "no-such-qemu-system"})
	err := q.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Berth's VM runs in QEMU") || !strings.Contains(err.Error(), "install") {
		t.Fatalf("start without QEMU: %v", err)
	}
	if st := q.Status(); st.State != Failed || st.Reason == "" {
		t.Errorf("status %+v", st)
	}
}
