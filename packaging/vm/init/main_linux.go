package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const dataDisk = "/dev/vda"

func main() {
	start := time.Now()
	logf("berth-init: starting")
	if err := switchRoot(); err != nil {
		logf("berth-init: switch root: %v", err)
	}
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
	modules := time.Since(start)
	// berthd listens on 0.0.0.0, which needs no address yet: the network
	// comes up while the data disk mounts and berthd starts.
	go func() {
		if err := network(); err != nil {
			logf("berth-init: network: %v", err)
		}
	}()
	os.MkdirAll("/var/lib/berth", 0o755)
	if err := dataRoot(); err != nil {
		logf("berth-init: data disk: %v (images are kept in memory until the next boot)", err)
	}
	shares := mountShares(cmdlineShares())
	go keepTime()
	logf("berth-init: system ready in %v (modules %v), starting berthd", time.Since(start).Round(time.Millisecond), modules.Round(time.Millisecond))
	args := []string{"-H", "tcp://0.0.0.0:2375", "--data-root", "/var/lib/berth", "--exec-root", "/run/berth", "--ip-masq=false",
		// A port's host IP is the user's computer's: the helper opens it
		// there, and the forward arrives here on the VM's own address.
		"--publish-on-any-address", "--vm"}
	for _, s := range shares {
		args = append(args, "--shared-folder="+s.path)
	}
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
	go func() { // the boot's last milestone, on the console
		for i := 0; i < 1000; i++ {
			if c, err := net.Dial("tcp", "127.0.0.1:2375"); err == nil {
				c.Close()
				logf("berth-init: engine listening")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
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
	// A clean file system needs no journal replay next time.
	if err := unix.Unmount("/var/lib/berth", 0); err != nil {
		unix.Mount("", "/var/lib/berth", "", unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

// logf writes a console line stamped with the time since the kernel
// started, as the kernel's own lines are: the console is how boot time
// is measured and failures are explained.
func logf(format string, args ...any) {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	fmt.Fprintf(os.Stdout, "[%5d.%03d] "+format+"\n", append([]any{ts.Sec, ts.Nsec / 1e6}, args...)...)
}

// loadModules loads the modules listed one per line as "LEVEL PATH":
// a module's level is above those of all it depends on, so each level's
// modules load side by side (module loading is slow under emulation).
func loadModules(list string) {
	data, err := os.ReadFile(list)
	if err != nil {
		logf("berth-init: %v", err)
		return
	}
	levels := map[int][]string{}
	top := 0
	for _, line := range strings.Split(string(data), "\n") {
		var level int
		var path string
		if _, err := fmt.Sscan(line, &level, &path); err != nil {
			continue
		}
		levels[level] = append(levels[level], path)
		top = max(top, level)
	}
	for l := 0; l <= top; l++ {
		var wg sync.WaitGroup
		for _, path := range levels[l] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				loadModule(path)
			}()
		}
		wg.Wait()
	}
}

func loadModule(path string) {
	m, err := os.Open(path)
	if err != nil {
		logf("berth-init: module %s: %v", path, err)
		return
	}
	defer m.Close()
	if err := unix.FinitModule(int(m.Fd()), "", 0); err != nil && err != unix.EEXIST {
		logf("berth-init: load %s: %v", path, err)
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
	// Containers reach out through the VM without NAT (the VM carries no
	// iptables): it forwards their packets, and answers QEMU's ARP for
	// their addresses on the bridge, so QEMU's network, which keeps a
	// connection per source address anyway, sends the replies back here.
	for _, knob := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv4/conf/eth0/proxy_arp"} {
		if err := os.WriteFile(knob, []byte("1"), 0o644); err != nil {
			logf("berth-init: %s: %v", knob, err)
		}
	}
	// Say hello to QEMU's network: it learns where 10.0.2.15 is from our
	// ARP request, instead of asking later and answering the host's first
	// connections to the engine only on its half-second retry timer.
	if c, err := net.Dial("udp", "10.0.2.2:9"); err == nil {
		c.Write([]byte{0})
		c.Close()
	}
	logf("berth-init: network up")
	os.MkdirAll("/etc", 0o755)
	return os.WriteFile("/etc/resolv.conf", []byte("nameserver 10.0.2.3\n"), 0o644)
}

// dataRoot mounts the data disk at /var/lib/berth. A blank disk (the
// first boot) gets a journalled ext4 file system; one that has a file
// system but will not mount is repaired, never formatted: it holds the
// user's images.
func dataRoot() error {
	if _, err := os.Stat(dataDisk); err != nil {
		return err
	}
	// discard: blocks freed here (a removed image) are handed back to the
	// host, whose sparse disk file then shrinks instead of only growing.
	// noinit_itable: the kernel would spend the first minutes after a
	// format zeroing inode tables in the background (5% of a core under
	// emulation), but the disk is a sparse file: they read as zeros.
	mount := func() error {
		return unix.Mount(dataDisk, "/var/lib/berth", "ext4", 0, "discard,noinit_itable")
	}
	err := mount()
	if err == nil {
		return nil
	}
	blank, berr := isBlank(dataDisk)
	if berr != nil {
		return berr
	}
	if blank {
		logf("berth-init: formatting %s (first boot)", dataDisk)
		out, err := exec.Command("/sbin/mke2fs", "-q", "-t", "ext4", "-L", "berth-data", "-m", "0",
			"-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", dataDisk).CombinedOutput()
		if err != nil {
			return fmt.Errorf("mke2fs: %v: %s", err, out)
		}
		return mount()
	}
	logf("berth-init: %s does not mount (%v): checking it", dataDisk, err)
	out, ferr := exec.Command("/sbin/e2fsck", "-y", dataDisk).CombinedOutput()
	logf("%s", strings.TrimSpace(string(out)))
	// e2fsck's exit status is a bit mask: 1 and 2 mean errors were fixed.
	if ee, ok := ferr.(*exec.ExitError); ferr != nil && (!ok || ee.ExitCode()&^3 != 0) {
		return fmt.Errorf("e2fsck could not repair %s: %v", dataDisk, ferr)
	}
	return mount()
}

// isBlank says whether the disk's first megabyte is all zeros: a disk the
// helper just made, never a file system.
func isBlank(dev string) (bool, error) {
	f, err := os.Open(dev)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(f, buf); err != nil {
		return false, err
	}
	for _, b := range buf {
		if b != 0 {
			return false, nil
		}
	}
	return true, nil
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

// keepTime keeps the VM's clock on the host's. After the host sleeps (a
// laptop's closed lid) the VM's clock stays behind, which breaks TLS
// ("certificate not yet valid" on a pull) and every timestamp; QEMU's
// RTC follows the host's clock, so every 5 s init compares and steps the
// clock when they differ.
func keepTime() {
	for ; ; time.Sleep(5 * time.Second) {
		rtc, err := readRTC("/dev/rtc0")
		if err != nil {
			logf("berth-init: clock: %v; the VM's clock is not kept on the host's", err)
			return
		}
		if step, ok := clockStep(time.Now(), rtc); ok {
			tv := unix.NsecToTimeval(time.Now().Add(step).UnixNano())
			if err := unix.Settimeofday(&tv); err != nil {
				logf("berth-init: clock: %v", err)
				continue
			}
			logf("berth-init: clock stepped by %v to the host's", step.Round(time.Second))
		}
	}
}

// clockStep is how far to move the system clock to the RTC's, if at all:
// the RTC counts whole seconds, so less than two apart is agreement.
func clockStep(system, rtc time.Time) (time.Duration, bool) {
	d := rtc.Sub(system)
	if d > -2*time.Second && d < 2*time.Second {
		return 0, false
	}
	return d, true
}

func readRTC(dev string) (time.Time, error) {
	f, err := os.Open(dev)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	t, err := unix.IoctlGetRTCTime(int(f.Fd()))
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(int(t.Year)+1900, time.Month(t.Mon+1), int(t.Mday), int(t.Hour), int(t.Min), int(t.Sec), 0, time.UTC), nil
}

// share is a host folder QEMU shares over 9p: the tag QEMU gives it and
// the path it has on the host, which is where it appears here too, so a
// bind mount names the same folder inside the VM as on the user's computer.
type share struct{ tag, path string }

// cmdlineShares reads berth.shares=TAG:PATH,TAG:PATH from the kernel
// command line; paths are percent-encoded (the command line splits at
// spaces, and the list at commas).
func cmdlineShares() []share {
	data, _ := os.ReadFile("/proc/cmdline")
	return parseShares(string(data))
}

func parseShares(cmdline string) []share {
	var out []share
	for _, f := range strings.Fields(cmdline) {
		v, ok := strings.CutPrefix(f, "berth.shares=")
		if !ok {
			continue
		}
		for _, item := range strings.Split(v, ",") {
			tag, enc, ok := strings.Cut(item, ":")
			if !ok {
				continue
			}
			p, err := url.PathUnescape(enc)
			if err != nil || !usableSharePath(p) {
				logf("berth-init: share %s: %q cannot be mounted here (a system folder of the VM)", tag, enc)
				continue
			}
			out = append(out, share{tag, p})
		}
	}
	return out
}

// usableSharePath refuses folders the VM itself needs: a share mounted
// over them would hide the VM's own files.
func usableSharePath(p string) bool {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" || p == "/tmp" {
		return false // (a folder inside /tmp is fine: the VM's /tmp stays)
	}
	for _, sys := range []string{"/proc", "/sys", "/dev", "/run", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/var/lib/berth", "/newroot", "/init", "/berthd"} {
		if p == sys || strings.HasPrefix(p, sys+"/") {
			return false
		}
	}
	return true
}

// mountShares mounts each share at its host path and returns those it
// mounted. cache=mmap keeps files
// coherent with edits on the host (reads go to the host) while programs
// that map files still work.
func mountShares(shares []share) (mounted []share) {
	for _, s := range shares {
		if err := os.MkdirAll(s.path, 0o755); err != nil {
			logf("berth-init: share %s: %v", s.path, err)
			continue
		}
		if err := unix.Mount(s.tag, s.path, "9p", 0, "trans=virtio,version=9p2000.L,msize=512000,cache=mmap"); err != nil {
			logf("berth-init: share %s: %v", s.path, err)
			continue
		}
		mounted = append(mounted, s)
	}
	return mounted
}

// switchRoot makes a bind mount of the initramfs the root. The
// initramfs itself is the kernel's rootfs, which pivot_root (how
// containers get their own root) refuses to move away from; a bind mount
// of it is an ordinary mount, and costs nothing (copying the 23 MB to a
// tmpfs took 0.4 s under emulation).
func switchRoot() error {
	const nr = "/newroot"
	if err := os.MkdirAll(nr, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("/", nr, "", unix.MS_BIND, ""); err != nil {
		return err
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
	return unix.Chdir("/")
}
