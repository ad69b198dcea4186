// Command probe reports what a container may do: the syscalls Docker's
// default seccomp profile blocks, capabilities, masked and read-only
// paths, the network, limits. Each line is "check=result"; results are
// "ok", an errno name, or a value. Built static, run in a container by
// TestIsolationMatchesDocker.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func errno(err error) string {
	var e syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &e):
		return unix.ErrnoName(e)
	}
	return err.Error()
}

func raw(trap uintptr, a ...uintptr) string {
	args := make([]uintptr, 6)
	copy(args, a)
	_, _, e := unix.Syscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
	if e != 0 {
		return unix.ErrnoName(e)
	}
	return "ok"
}

func main() {
	if os.Getenv("BERTH_PROBE") != "in-a-container" {
		fmt.Fprintln(os.Stderr, "probe: run me in a container, with BERTH_PROBE=in-a-container")
		os.Exit(2)
	}
	out := map[string]string{}
	out["unshare-user"] = errno(unix.Unshare(unix.CLONE_NEWUSER))
	out["unshare-mount"] = errno(unix.Unshare(unix.CLONE_NEWNS))
	keyType, _ := unix.BytePtrFromString("user")
	keyDesc, _ := unix.BytePtrFromString("berth")
	out["add_key"] = raw(unix.SYS_ADD_KEY, uintptr(unsafe.Pointer(keyType)), uintptr(unsafe.Pointer(keyDesc)), 0, 0, uintptr(0xfffffffd))
	out["keyctl"] = raw(unix.SYS_KEYCTL, 0 /* KEYCTL_GET_KEYRING_ID */, uintptr(0xfffffffd), 0)
	out["bpf"] = raw(unix.SYS_BPF, 0, 0, 0)
	out["setns"] = raw(unix.SYS_SETNS, 0, 0)
	out["io_uring_setup"] = raw(425, 1, 0)
	out["personality-0x400000"] = raw(unix.SYS_PERSONALITY, 0x400000)
	dir, _ := os.MkdirTemp("", "probe-")
	err := unix.Mount("none", dir, "tmpfs", 0, "")
	out["mount"] = errno(err)
	if err == nil {
		unix.Unmount(dir, 0)
	}
	out["reboot"] = raw(unix.SYS_REBOOT, 0, 0, 0, 0)
	out["clock_settime"] = errno(unix.ClockSettime(unix.CLOCK_REALTIME, &unix.Timespec{}))
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var caps uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &caps)
			n := 0
			for ; caps != 0; caps &= caps - 1 {
				n++
			}
			out["caps"] = fmt.Sprint(n)
		}
		if v, ok := strings.CutPrefix(line, "Seccomp:"); ok {
			out["seccomp-mode"] = strings.TrimSpace(v)
		}
	}
	host, _ := os.ReadFile("/proc/sys/kernel/hostname") // written back as it is: harmless where allowed
	// /proc/timer_list is one of the paths Docker masks (a read gives
	// nothing); only its first bytes are read.
	if f, err := os.Open("/proc/timer_list"); err == nil {
		n, _ := f.Read(make([]byte, 16))
		f.Close()
		out["proc-timer_list"] = fmt.Sprintf("%d bytes", n)
	} else {
		out["proc-timer_list"] = errno(err)
	}
	out["proc-sys-write"] = errno(os.WriteFile("/proc/sys/kernel/hostname", host, 0))
	err = os.WriteFile("/probe-write", []byte("x"), 0o644)
	out["root-write"] = errno(err)
	os.Remove("/probe-write")
	ifaces, _ := net.Interfaces()
	var names []string
	for _, i := range ifaces {
		names = append(names, i.Name)
	}
	sort.Strings(names)
	out["interfaces"] = strings.Join(names, ",")
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	out["nofile-hard"] = fmt.Sprint(lim.Max) // (Go raises the soft limit at start)
	for _, p := range []string{"/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"} {
		if b, err := os.ReadFile(p); err == nil {
			out["pids-max"] = strings.TrimSpace(string(b))
		}
	}
	var keys []string
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%s\n", k, out[k])
	}
}
