package runtime

import (
	"cmp"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/profiles/seccomp"
	"github.com/moby/sys/capability"
	"github.com/moby/sys/devices"
	"github.com/opencontainers/runc/libcontainer/configs"
	lcseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SeccompEnabled says whether this engine was built with seccomp (the
// seccomp build tag and libseccomp): without it containers run with no
// filter, and docker info says so.
const SeccompEnabled = lcseccomp.Enabled

// allCaps are every capability the kernel knows.
func allCaps() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
}

// capName writes a capability as the kernel's list does: CAP_NET_ADMIN.
func capName(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c == "ALL" || strings.HasPrefix(c, "CAP_") {
		return c
	}
	return "CAP_" + c
}

// capabilities are Docker's defaults, less --cap-drop, plus --cap-add;
// an unknown name is refused.
func capabilities(sec engine.Security) ([]string, error) {
	if sec.Privileged {
		return privilegedCaps(), nil
	}
	known := allCaps()
	check := func(list []string) error {
		for _, c := range list {
			if n := capName(c); n != "ALL" && !slices.Contains(known, n) {
				return fmt.Errorf("unknown capability %q: %w", c, engine.ErrInvalidArgument)
			}
		}
		return nil
	}
	if err := check(sec.CapAdd); err != nil {
		return nil, err
	}
	if err := check(sec.CapDrop); err != nil {
		return nil, err
	}
	caps := slices.Clone(dockerCaps)
	for _, c := range sec.CapDrop {
		if n := capName(c); n == "ALL" {
			caps = nil
		} else {
			caps = slices.DeleteFunc(caps, func(x string) bool { return x == n })
		}
	}
	for _, c := range sec.CapAdd {
		n := capName(c)
		if n == "ALL" {
			return privilegedCaps(), nil
		}
		if !slices.Contains(caps, n) {
			caps = append(caps, n)
		}
	}
	return caps, nil
}

// checkSpec refuses, at create time, what would only fail at start: a
// bad stop signal, capability, ulimit or network.
func checkSpec(spec engine.ContainerSpec) error {
	if spec.StopSignal != "" {
		if _, err := signalNumber(spec.StopSignal); err != nil {
			return fmt.Errorf("invalid stop signal %q: %w", spec.StopSignal, err)
		}
	}
	if _, err := capabilities(spec.Security); err != nil {
		return err
	}
	for _, u := range spec.Security.Ulimits {
		if _, ok := rlimits["RLIMIT_"+strings.ToUpper(u.Name)]; !ok || u.Soft < 0 || u.Hard < 0 || u.Soft > u.Hard {
			return fmt.Errorf("invalid ulimit %s=%d:%d: %w", u.Name, u.Soft, u.Hard, engine.ErrInvalidArgument)
		}
	}
	builtin := true
	switch spec.Network {
	case "", "default", "bridge", "host":
	case "none":
		if len(spec.Ports) > 0 || spec.PublishAll {
			return fmt.Errorf("conflicting options: port publishing and the none network: %w", engine.ErrInvalidArgument)
		}
	default: // a user-defined network, found by Create
		builtin = false
	}
	if builtin && len(spec.Aliases) > 0 {
		return fmt.Errorf("network-scoped aliases are supported only for containers on user-defined networks: %w", engine.ErrInvalidArgument)
	}
	if len(spec.Links) > 0 && (!builtin || spec.Network == "host" || spec.Network == "none") {
		return fmt.Errorf("--link is for the default bridge network; on a network of your own, containers find each other by name: %w", engine.ErrInvalidArgument)
	}
	if spec.Network == "host" && (len(spec.DNS) > 0 || len(spec.DNSSearch) > 0 || len(spec.DNSOptions) > 0) {
		return fmt.Errorf("conflicting options: dns and the network mode host: %w", engine.ErrInvalidArgument)
	}
	for _, h := range spec.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			name, ip, ok = strings.Cut(h, "=")
		}
		if !ok || name == "" || ip != "host-gateway" && net.ParseIP(ip) == nil {
			return fmt.Errorf("invalid --add-host %q: write name:ip (or name:host-gateway): %w", h, engine.ErrInvalidArgument)
		}
	}
	for _, ip := range spec.DNS {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("invalid --dns %q: write an IP address: %w", ip, engine.ErrInvalidArgument)
		}
	}
	for _, p := range spec.Ports {
		if p.ContainerPort < 1 || p.ContainerPort > 65535 || p.HostPort < 0 || p.HostPort > 65535 {
			return fmt.Errorf("invalid port %d:%d: %w", p.HostPort, p.ContainerPort, engine.ErrInvalidArgument)
		}
	}
	return nil
}

// applySecurity sets what the container may do: its capabilities, the
// seccomp filter, devices, a read-only root, process and resource limits.
func applySecurity(s *specs.Spec, sec engine.Security) error {
	caps, err := capabilities(sec)
	if err != nil {
		return err
	}
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	s.Root.Readonly = sec.ReadOnly
	if sec.PidsLimit > 0 {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &sec.PidsLimit}
	}
	for _, u := range sec.Ulimits {
		name := "RLIMIT_" + strings.ToUpper(u.Name)
		if _, ok := rlimits[name]; !ok || u.Soft < 0 || u.Hard < 0 || u.Soft > u.Hard {
			return fmt.Errorf("invalid ulimit %s=%d:%d: %w", u.Name, u.Soft, u.Hard, engine.ErrInvalidArgument)
		}
		s.Process.Rlimits = slices.DeleteFunc(s.Process.Rlimits, func(r specs.POSIXRlimit) bool { return r.Type == name })
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: name, Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	if sec.Privileged {
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		for i, m := range s.Mounts {
			if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
				s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
			}
		}
		host, err := devices.HostDevices()
		if err != nil {
			return fmt.Errorf("--privileged: the host's devices: %w", err)
		}
		for _, d := range host {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: d.Path, Type: string(d.Type), Major: d.Major, Minor: d.Minor, FileMode: &d.FileMode, UID: &d.Uid, GID: &d.Gid})
		}
	}
	for _, d := range sec.Devices {
		if err := addDevice(s, d); err != nil {
			return err
		}
	}
	return applySeccomp(s, sec)
}

// applySeccomp is Docker's default profile (for the capabilities the
// container has), none when privileged or "unconfined", or the profile
// --security-opt seccomp= gave.
func applySeccomp(s *specs.Spec, sec engine.Security) error {
	switch {
	case sec.Privileged || sec.Seccomp == "unconfined":
		return nil
	case !SeccompEnabled && sec.Seccomp != "":
		return fmt.Errorf("--security-opt seccomp: this engine was built without seccomp support: %w", engine.ErrNotSupported)
	case !SeccompEnabled:
		return nil // docker info warns that containers run without a filter
	case sec.Seccomp == "":
		p, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return fmt.Errorf("Docker's default seccomp profile: %w", err)
		}
		p.Architectures = withoutDeadArchitectures(p.Architectures)
		s.Linux.Seccomp = p
		return nil
	}
	p, err := seccomp.LoadProfile(sec.Seccomp, s)
	if err != nil {
		return fmt.Errorf("--security-opt seccomp: %w: %w", err, engine.ErrInvalidArgument)
	}
	s.Linux.Seccomp = p
	return nil
}

// withoutDeadArchitectures leaves out of a filter the x32 ABI where the
// kernel runs no x32 system calls (Debian's default): its rules could
// never match, and libseccomp compiling a third architecture into every
// container's filter took 16 of a start's 95 ms. A process that tries an
// x32 call gets an error either way.
func withoutDeadArchitectures(arches []specs.Arch) []specs.Arch {
	if kernelRunsX32() {
		return arches
	}
	return slices.DeleteFunc(slices.Clone(arches), func(a specs.Arch) bool { return a == specs.ArchX32 })
}

// addDevice gives the container a host device node, as --device does.
func addDevice(s *specs.Spec, d engine.Device) error {
	perms := cmp.Or(d.Permissions, "rwm")
	if strings.Trim(perms, "rwm") != "" {
		return fmt.Errorf("--device %s: permissions are r, w and m: %w", d.PathOnHost, engine.ErrInvalidArgument)
	}
	dev, err := devices.DeviceFromPath(filepath.Clean(d.PathOnHost), perms)
	if err != nil {
		return fmt.Errorf("--device %s: %w: %w", d.PathOnHost, err, engine.ErrInvalidArgument)
	}
	path := cmp.Or(d.PathInContainer, d.PathOnHost)
	if !filepath.IsAbs(path) {
		return fmt.Errorf("--device %s: the path in the container must be absolute: %w", path, engine.ErrInvalidArgument)
	}
	s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: path, Type: string(dev.Type), Major: dev.Major, Minor: dev.Minor, FileMode: &dev.FileMode, UID: &dev.Uid, GID: &dev.Gid})
	major, minor := dev.Major, dev.Minor
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: string(dev.Type), Major: &major, Minor: &minor, Access: perms})
	return nil
}

// processRlimits are the spec's limits as libcontainer sets them on a
// process (runc does this itself; specconv leaves them out).
func processRlimits(s *specs.Spec) []configs.Rlimit {
	var out []configs.Rlimit
	for _, r := range s.Process.Rlimits {
		if n, ok := rlimits[r.Type]; ok {
			out = append(out, configs.Rlimit{Type: n, Hard: r.Hard, Soft: r.Soft})
		}
	}
	return out
}

// privilegedCaps are every capability the engine itself holds: a
// privileged container gets all of them (asking for one the engine lacks
// fails the start).
func privilegedCaps() []string {
	c, err := capability.NewPid2(0)
	if err != nil || c.Load() != nil {
		return allCaps()
	}
	var out []string
	for _, cp := range capability.ListKnown() {
		if c.Get(capability.BOUNDING, cp) {
			out = append(out, "CAP_"+strings.ToUpper(cp.String()))
		}
	}
	return out
}

// rlimits are the limits --ulimit may set.
var rlimits = map[string]int{
	"RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
	"RLIMIT_AS": unix.RLIMIT_AS,
}
