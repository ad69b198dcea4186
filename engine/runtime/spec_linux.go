package runtime

import (
	"path"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerCaps is Docker's default capability set.
var dockerCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Docker's default masked and read-only /proc and /sys paths.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// processUser is a resolved user.
type processUser struct {
	UID, GID int
	Groups   []int
	Home     string
}

// buildSpec makes the OCI runtime spec for one run of a container.
func buildSpec(c *record, rootfs, netnsPath, dir string, u processUser, tty bool) (*specs.Spec, error) {
	s := specconv.Example()
	s.Root = &specs.Root{Path: rootfs}
	s.Hostname = c.hostname()
	caps := append([]string(nil), dockerCaps...)
	s.Process = &specs.Process{
		Terminal: tty,
		Args:     append([]string{c.Path}, c.Args...),
		Env:      c.Env,
		Cwd:      c.Cwd,
		User:     specs.User{UID: uint32(u.UID), GID: uint32(u.GID)},
		Capabilities: &specs.LinuxCapabilities{
			Bounding: caps, Effective: caps, Permitted: caps,
		},
		Rlimits:         defaultRlimits(),
		NoNewPrivileges: c.Spec.NoNewPrivileges,
	}
	for _, g := range u.Groups {
		s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, uint32(g))
	}
	s.Mounts = defaultMounts()
	for _, f := range []string{"hostname", "hosts", "resolv.conf"} {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/" + f, Type: "bind", Source: dir + "/" + f, Options: []string{"rbind", "rprivate"}})
	}
	for _, m := range c.mounts {
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Target, Type: "bind", Source: m.hostPath, Options: opts})
	}
	s.Linux.Namespaces = []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.MountNamespace},
	}
	if c.Spec.Network != "host" { // host: the engine's own network namespace
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath})
	}
	if cgroups.IsCgroup2UnifiedMode() {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	s.Linux.MaskedPaths = maskedPaths
	s.Linux.ReadonlyPaths = readonlyPaths
	s.Linux.CgroupsPath = "/berth/" + c.ID
	s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	if c.Spec.Memory > 0 {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &c.Spec.Memory}
	}
	if c.Spec.NanoCPUs > 0 {
		period := uint64(100000)
		quota := c.Spec.NanoCPUs * int64(period) / 1e9
		s.Linux.Resources.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if err := applySecurity(s, c.Spec.Security); err != nil {
		return nil, err
	}
	return s, nil
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	}
}

// defaultRlimits gives containers docker's generous open-file limit, but
// never more than the engine's own hard limit: asking the kernel for more
// fails the start (on this kind of machine the hard limit is ~20000).
func defaultRlimits() []specs.POSIXRlimit {
	const want = 1 << 20
	var lim unix.Rlimit
	n := uint64(want)
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Max < n {
		n = lim.Max
	}
	return []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: n, Soft: n}}
}

// signalNumber reads "SIGTERM", "TERM", "15" or "" (SIGKILL).
func signalNumber(name string) (unix.Signal, error) {
	if name == "" {
		return unix.SIGKILL, nil
	}
	if n, err := parseInt(name); err == nil {
		if n < 1 || n > 64 { // SIGRTMAX
			return 0, errInvalid("invalid signal: " + name)
		}
		return unix.Signal(n), nil
	}
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "SIG") {
		up = "SIG" + up
	}
	if s := unix.SignalNum(up); s != 0 {
		return s, nil
	}
	return 0, errInvalid("invalid signal: " + name)
}

func errInvalid(msg string) error { return &invalidError{msg} }

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == engine.ErrInvalidArgument }

// containerConfig is libcontainer's config for a spec. A rootless
// engine's containers have their cgroups under the cgroup the system
// delegated to it, with only the limits its controllers allow; where it
// delegated none they have no cgroups and no limits (docker info says
// so), and libcontainer is told to expect no cgroup it may write.
func (rt *Runtime) containerConfig(cgroupName string, spec *specs.Spec) (*configs.Config, error) {
	if rt.rootless && spec.Linux != nil {
		if rt.cgroup == "" {
			// libcontainer skips a cgroup it may not make only when no
			// path was asked for.
			spec.Linux.Resources, spec.Linux.CgroupsPath = nil, ""
		} else {
			spec.Linux.CgroupsPath = path.Join(rt.cgroup, spec.Linux.CgroupsPath)
			withoutUndelegatedLimits(spec.Linux.Resources, rt.controllers)
		}
	}
	return specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: cgroupName, Spec: spec, NoNewKeyring: true, RootlessCgroups: rt.rootless})
}

// withoutUndelegatedLimits drops the limits whose controllers the
// engine was not given: libcontainer would fail the start on them.
func withoutUndelegatedLimits(r *specs.LinuxResources, controllers []string) {
	if r == nil {
		return
	}
	if !slices.Contains(controllers, "memory") {
		r.Memory = nil
	}
	if !slices.Contains(controllers, "cpu") {
		r.CPU = nil
	}
	if !slices.Contains(controllers, "pids") {
		r.Pids = nil
	}
}
