package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const dataDisk = "/dev/vda"

func main() {
	start := time.Now()
	if os.Getenv("BERTH_ROOT") == "" {
		// The initramfs is the kernel's rootfs, which pivot_root (how
		// containers get their own root) refuses to move: copy it to a
		// tmpfs, make that the root, and start again from there.
		if err := switchRoot(); err != nil {
			logf("berth-init: switch root: %v", err)
		}
	}
	logf("berth-init: starting")
	for _, m := range []struct{ src, dst, fs, opts string }{
		{"proc", "/proc", "proc", ""}, {"sysfs", "/sys", "sysfs", ""}, {"devtmpfs", "/dev", "devtmpfs", ""},
		{"devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666"}, {"tmpfs", "/run", "tmpfs", "mode=755"},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777"}, {"cgroup2", "/sys/fs/cgroup", "cgroup2", ""},
	} {
		os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fs, 0, m.opts); err != nil {
			logf("berth-init: mount %s: %v", m.dst, err)
		}
	}
	loadModules("/etc/modules.order")
	if err := network(); err != nil {
		logf("berth-init: network: %v", err)
	}
	os.MkdirAll("/var/lib/berth", 0o755)
	if err := dataRoot(); err != nil {
		logf("berth-init: data disk: %v (images are kept in memory until the next boot)", err)
	}
	logf("berth-init: system ready in %v, starting berthd", time.Since(start).Round(time.Millisecond))
	args := []string{"-H", "tcp://0.0.0.0:2375", "--data-root", "/var/lib/berth", "--exec-root", "/run/berth", "--ip-masq=false"}
	if _, err := os.Stat("/etc/berth/tls/ca.pem"); err == nil {
		// Only the helper, holding the client certificate, may drive the engine.
		args = append(args, "--tlsverify", "--tlscacert=/etc/berth/tls/ca.pem", "--tlscert=/etc/berth/tls/cert.pem", "--tlskey=/etc/berth/tls/key.pem")
	}
	args = append(args, cmdlineFlags()...)
	cmd := exec.Command("/berthd", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = []string{"PATH=/bin:/sbin:/usr/bin", "HOME=/root"}
	// Ctrl-Alt-Del (what the host sends to stop the VM) becomes SIGINT
	// here: berthd stops its containers, then the VM powers off cleanly.
	unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, unix.SIGINT, unix.SIGTERM, unix.SIGPWR)
	if err := cmd.Start(); err != nil {
		logf("berth-init: start berthd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-stop:
		logf("berth-init: stopping")
		cmd.Process.Signal(unix.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
	}
	logf("berth-init: berthd ended: %v; powering off", err)
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// loadModules loads the modules named in order (one path per line).
func loadModules(list string) {
	f, err := os.Open(list)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path := strings.TrimSpace(sc.Text())
		if path == "" {
			continue
		}
		m, err := os.Open(path)
		if err != nil {
			logf("berth-init: module %s: %v", path, err)
			continue
		}
		if err := unix.FinitModule(int(m.Fd()), "", 0); err != nil && err != unix.EEXIST {
			logf("berth-init: load %s: %v", path, err)
		}
		m.Close()
	}
}

// network configures what QEMU's user-mode network provides: 10.0.2.15,
// gateway 10.0.2.2, DNS 10.0.2.3.
func network() error {
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		netlink.LinkSetUp(lo)
	}
	var eth netlink.Link
	for i := 0; i < 50; i++ {
		if eth, err = netlink.LinkByName("eth0"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	addr, _ := netlink.ParseAddr("10.0.2.15/24")
	if err := netlink.AddrAdd(eth, addr); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(eth); err != nil {
		return err
	}
	if err := netlink.RouteAdd(&netlink.Route{Gw: net.ParseIP("10.0.2.2")}); err != nil {
		return err
	}
	os.MkdirAll("/etc", 0o755)
	return os.WriteFile("/etc/resolv.conf", []byte("nameserver 10.0.2.3\n"), 0o644)
}

// dataRoot mounts the data disk at /var/lib/berth, making a file system on
// it the first time.
func dataRoot() error {
	if _, err := os.Stat(dataDisk); err != nil {
		return err
	}
	if err := unix.Mount(dataDisk, "/var/lib/berth", "ext4", 0, ""); err == nil {
		return nil
	}
	logf("berth-init: formatting %s (first boot)", dataDisk)
	if out, err := exec.Command("/bin/busybox", "mke2fs", "-L", "berth-data", dataDisk).CombinedOutput(); err != nil {
		return fmt.Errorf("mke2fs: %v: %s", err, out)
	}
	return unix.Mount(dataDisk, "/var/lib/berth", "ext4", 0, "")
}

// cmdlineFlags are extra berthd flags from the kernel command line:
// berth.flags=--insecure-registry=10.0.2.2:5000,--debug
func cmdlineFlags() []string {
	data, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(data)) {
		if v, ok := strings.CutPrefix(f, "berth.flags="); ok && v != "" {
			return strings.Split(v, ",")
		}
	}
	return nil
}

// switchRoot copies the initramfs into a tmpfs, moves that over "/" and
// re-executes init there.
func switchRoot() error {
	const nr = "/newroot"
	if err := os.MkdirAll(nr, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", nr, "tmpfs", 0, "mode=755"); err != nil {
		return err
	}
	err := filepath.Walk("/", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		if p == nr || p == "/proc" || p == "/sys" || p == "/dev" {
			return filepath.SkipDir
		}
		dst := filepath.Join(nr, p)
		switch {
		case fi.IsDir():
			return os.MkdirAll(dst, fi.Mode().Perm())
		case fi.Mode()&os.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(t, dst)
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range []string{"proc", "sys", "dev"} {
		os.MkdirAll(filepath.Join(nr, d), 0o755)
	}
	if err := unix.Chdir(nr); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	if err := unix.Chroot("."); err != nil {
		return err
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	return unix.Exec("/init", []string{"/init"}, append(os.Environ(), "BERTH_ROOT=tmpfs"))
}
