package api

import (
	"cmp"
	"fmt"

	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/container"
)

// specFrom converts docker's create request into Berth's spec. Every
// option the request carries is applied or refused with what Berth does
// not do: none is dropped in silence (unsupported).
func specFrom(name string, req container.CreateRequest) (engine.ContainerSpec, error) {
	cfg := req.Config
	spec := engine.ContainerSpec{
		Name: name, Image: cfg.Image, Cmd: cfg.Cmd, Entrypoint: cfg.Entrypoint,
		Env: cfg.Env, WorkingDir: cfg.WorkingDir, User: cfg.User, Hostname: cfg.Hostname,
		Tty: cfg.Tty, OpenStdin: cfg.OpenStdin, Labels: cfg.Labels,
		StopSignal: cfg.StopSignal, StopTimeout: cfg.StopTimeout,
	}
	if h := cfg.Healthcheck; h != nil {
		spec.Healthcheck = &engine.HealthCheck{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	// --entrypoint "" arrives as [""]: it clears the image's entrypoint.
	if len(spec.Entrypoint) == 1 && spec.Entrypoint[0] == "" {
		spec.Entrypoint = []string{}
	}
	for p := range cfg.ExposedPorts {
		spec.ExposedPorts = append(spec.ExposedPorts, p.String())
	}
	for v := range cfg.Volumes {
		spec.Mounts = append(spec.Mounts, engine.Mount{Type: "volume", Target: v}) // an anonymous volume
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if bad := unsupported(req); len(bad) > 0 {
		return spec, fmt.Errorf("Berth does not support %s: %w", strings.Join(bad, ", "), engine.ErrNotSupported)
	}
	spec.PublishAll, spec.AutoRemove = hc.PublishAllPorts, hc.AutoRemove
	spec.ConsoleHeight, spec.ConsoleWidth = hc.ConsoleSize[0], hc.ConsoleSize[1]
	if err := resources(&spec, hc.Resources); err != nil {
		return spec, err
	}
	if err := security(&spec, hc); err != nil {
		return spec, err
	}
	spec.ExtraHosts, spec.DNSSearch, spec.DNSOptions = hc.ExtraHosts, hc.DNSSearch, hc.DNSOptions
	for _, ip := range hc.DNS {
		spec.DNS = append(spec.DNS, ip.String())
	}
	for _, l := range hc.Links { // "/db:/web/db" as dockerd keeps them, or "db:db" as the CLI sends them
		name, alias, _ := strings.Cut(l, ":")
		name = strings.TrimPrefix(name, "/")
		if i := strings.LastIndex(alias, "/"); i >= 0 {
			alias = alias[i+1:]
		}
		spec.Links = append(spec.Links, name+":"+cmp.Or(alias, name))
	}
	mode := string(hc.NetworkMode)
	if strings.HasPrefix(mode, "container:") {
		return spec, fmt.Errorf("--network %s (sharing another container's network) is not supported yet: %w", mode, engine.ErrNotSupported)
	}
	spec.Network = mode // a user-defined network, unless bridge, host or none: the runtime finds it
	if nc := req.NetworkingConfig; nc != nil {
		for name, ep := range nc.EndpointsConfig {
			if ep == nil {
				continue
			}
			primary := name == mode || mode == "" && (name == "bridge" || name == "default")
			if !primary {
				return spec, fmt.Errorf("network %s: a container is created on one network; connect it to more with docker network connect: %w", name, engine.ErrNotSupported)
			}
			if ep.IPAMConfig != nil && (ep.IPAMConfig.IPv4Address.IsValid() || ep.IPAMConfig.IPv6Address.IsValid()) {
				return spec, fmt.Errorf("--ip and --ip6 are not supported yet: %w", engine.ErrNotSupported)
			}
			spec.Aliases = ep.Aliases
		}
	}
	spec.Restart = engine.RestartPolicy{Name: string(hc.RestartPolicy.Name), MaxRetries: hc.RestartPolicy.MaximumRetryCount}
	switch spec.Restart.Name {
	case "", "no", "always", "on-failure", "unless-stopped":
	default:
		return spec, fmt.Errorf("invalid restart policy %q: use no, always, on-failure or unless-stopped: %w", spec.Restart.Name, engine.ErrInvalidArgument)
	}
	if spec.Restart.MaxRetries < 0 || spec.Restart.MaxRetries > 0 && spec.Restart.Name != "on-failure" {
		return spec, fmt.Errorf("invalid restart policy: a maximum retry count goes with on-failure only, and is not negative: %w", engine.ErrInvalidArgument)
	}
	if spec.AutoRemove && spec.Restart.Name != "" && spec.Restart.Name != "no" {
		return spec, fmt.Errorf("can't create 'AutoRemove' container with restart policy: %w", engine.ErrInvalidArgument)
	}
	for port, bindings := range hc.PortBindings {
		proto := string(port.Proto())
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return spec, fmt.Errorf("invalid port %s: the protocol is tcp, udp or sctp: %w", port, engine.ErrInvalidArgument)
		}
		for _, b := range bindings {
			hostPort := 0
			if b.HostPort != "" {
				n, err := strconv.Atoi(b.HostPort)
				if err != nil || n < 0 || n > 65535 {
					return spec, fmt.Errorf("invalid host port %q: a port is a number from 0 to 65535: %w", b.HostPort, engine.ErrInvalidArgument)
				}
				hostPort = n
			}
			hostIP := ""
			if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
				hostIP = b.HostIP.String()
			}
			spec.Ports = append(spec.Ports, engine.PortBinding{HostIP: hostIP, HostPort: hostPort, ContainerPort: int(port.Num()), Proto: proto})
		}
	}
	if spec.Network == "none" && len(spec.Ports) > 0 {
		return spec, fmt.Errorf("conflicting options: port publishing and the none network: %w", engine.ErrInvalidArgument)
	}
	for _, bind := range hc.Binds {
		m, err := engine.ParseMountSpec(bind)
		if err != nil {
			return spec, err
		}
		spec.Mounts = append(spec.Mounts, m)
	}
	for _, m := range hc.Mounts {
		switch m.Type {
		case "bind", "volume":
		default:
			return spec, fmt.Errorf("mount type %q: Berth mounts bind and volume: %w", m.Type, engine.ErrNotSupported)
		}
		if m.Type == "volume" && m.Source != "" {
			if err := engine.ValidVolumeName(m.Source); err != nil {
				return spec, err
			}
		}
		if m.Target == "" {
			return spec, fmt.Errorf("a %s mount needs a target path in the container: %w", m.Type, engine.ErrInvalidArgument)
		}
		spec.Mounts = append(spec.Mounts, engine.Mount{Type: string(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return spec, nil
}

// resources checks and applies the limits docker run takes.
func resources(spec *engine.ContainerSpec, r container.Resources) error {
	const minMemory = 6 << 20 // what dockerd accepts at the least
	switch {
	case r.Memory < 0 || r.Memory > 0 && r.Memory < minMemory:
		return fmt.Errorf("invalid memory limit %d: the minimum is 6MB: %w", r.Memory, engine.ErrInvalidArgument)
	case r.NanoCPUs < 0 || r.NanoCPUs > int64(runtime.NumCPU())*1e9 || r.NanoCPUs > 0 && r.NanoCPUs < 1e7:
		return fmt.Errorf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available: %w", runtime.NumCPU(), runtime.NumCPU(), engine.ErrInvalidArgument)
	}
	spec.Memory, spec.NanoCPUs = r.Memory, r.NanoCPUs
	if r.PidsLimit != nil && *r.PidsLimit > 0 {
		spec.Security.PidsLimit = *r.PidsLimit
	}
	for _, u := range r.Ulimits {
		if u != nil {
			spec.Security.Ulimits = append(spec.Security.Ulimits, engine.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
		}
	}
	for _, d := range r.Devices {
		spec.Security.Devices = append(spec.Security.Devices, engine.Device{PathOnHost: d.PathOnHost, PathInContainer: d.PathInContainer, Permissions: d.CgroupPermissions})
	}
	return nil
}

// security applies --privileged, --cap-add/--cap-drop, --read-only and
// the --security-opt values Berth has; it refuses the others (AppArmor,
// SELinux labels).
func security(spec *engine.ContainerSpec, hc *container.HostConfig) error {
	sec := &spec.Security
	sec.Privileged, sec.ReadOnly = hc.Privileged, hc.ReadonlyRootfs
	sec.CapAdd, sec.CapDrop = hc.CapAdd, hc.CapDrop
	for _, opt := range hc.SecurityOpt {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		switch {
		case k == "no-new-privileges" && (!ok || v == "true"):
			spec.NoNewPrivileges = true
		case k == "no-new-privileges" && v == "false":
		case k == "seccomp" && ok:
			sec.Seccomp = v // "unconfined", or the profile's JSON (the CLI reads the file)
		case k == "apparmor" && v == "unconfined", k == "label" && v == "disable":
			// Berth applies no AppArmor profile or SELinux label to lift.
		case k == "apparmor" || k == "label":
			return fmt.Errorf("--security-opt %s: Berth applies no AppArmor profiles or SELinux labels: %w", opt, engine.ErrNotSupported)
		default:
			return fmt.Errorf("invalid --security-opt %q: %w", opt, engine.ErrInvalidArgument)
		}
	}
	return nil
}

// unsupported lists what the request asks for that Berth does not do, in
// docker run's words, so that nothing is silently dropped. Values that
// mean "as by default" pass.
func unsupported(req container.CreateRequest) []string {
	hc := req.HostConfig
	var out []string
	add := func(cond bool, what string) {
		if cond {
			out = append(out, what)
		}
	}
	if cfg := req.Config; cfg != nil {
		add(cfg.Domainname != "", "--domainname")
		add(len(cfg.OnBuild) > 0, "OnBuild")
		add(len(cfg.Shell) > 0, "Shell")
	}
	if hc == nil {
		return out
	}
	add(string(hc.PidMode) != "", "--pid "+string(hc.PidMode))
	add(string(hc.IpcMode) != "" && hc.IpcMode != "private" && hc.IpcMode != "shareable", "--ipc "+string(hc.IpcMode))
	add(string(hc.UTSMode) != "", "--uts "+string(hc.UTSMode))
	add(string(hc.UsernsMode) != "", "--userns "+string(hc.UsernsMode))
	add(string(hc.CgroupnsMode) != "" && hc.CgroupnsMode != "private", "--cgroupns "+string(hc.CgroupnsMode))
	add(string(hc.Cgroup) != "", "--cgroup")
	add(len(hc.VolumesFrom) > 0, "--volumes-from")
	add(hc.VolumeDriver != "" && hc.VolumeDriver != "local", "--volume-driver "+hc.VolumeDriver)
	add(len(hc.GroupAdd) > 0, "--group-add")
	add(len(hc.Tmpfs) > 0, "--tmpfs")
	add(hc.OomScoreAdj != 0, "--oom-score-adj")
	add(hc.ShmSize != 0, "--shm-size")
	add(len(hc.Sysctls) > 0, "--sysctl")
	add(len(hc.StorageOpt) > 0, "--storage-opt")
	add(hc.Runtime != "" && hc.Runtime != "runc", "--runtime "+hc.Runtime)
	add(hc.Isolation != "" && hc.Isolation != "default", "--isolation")
	add(hc.Init != nil && *hc.Init, "--init")
	add(hc.Umask != nil, "umask")
	add(hc.MaskedPaths != nil || hc.ReadonlyPaths != nil, "--security-opt systempaths")
	add(len(hc.Annotations) > 0, "--annotation")
	add(hc.LogConfig.Type != "" && hc.LogConfig.Type != "json-file" || len(hc.LogConfig.Config) > 0, "--log-driver/--log-opt (Berth keeps json-file logs)")
	r := hc.Resources
	add(r.CPUShares != 0, "--cpu-shares")
	add(r.CPUPeriod != 0 || r.CPUQuota != 0 || r.CPURealtimePeriod != 0 || r.CPURealtimeRuntime != 0, "--cpu-period/--cpu-quota (use --cpus)")
	add(r.CpusetCpus != "" || r.CpusetMems != "", "--cpuset-cpus/--cpuset-mems")
	add(r.CgroupParent != "", "--cgroup-parent")
	add(r.BlkioWeight != 0 || len(r.BlkioWeightDevice)+len(r.BlkioDeviceReadBps)+len(r.BlkioDeviceWriteBps)+len(r.BlkioDeviceReadIOps)+len(r.BlkioDeviceWriteIOps) > 0, "--blkio-*")
	add(len(r.DeviceCgroupRules) > 0, "--device-cgroup-rule")
	add(len(r.DeviceRequests) > 0, "--gpus")
	add(r.MemoryReservation != 0, "--memory-reservation")
	add(r.MemorySwap != 0 && r.MemorySwap != -1 && r.MemorySwap != r.Memory && r.MemorySwap != 2*r.Memory, "--memory-swap")
	add(r.MemorySwappiness != nil && *r.MemorySwappiness != -1, "--memory-swappiness")
	add(r.OomKillDisable != nil && *r.OomKillDisable, "--oom-kill-disable")
	add(r.CPUCount != 0 || r.CPUPercent != 0 || r.IOMaximumIOps != 0 || r.IOMaximumBandwidth != 0, "Windows resource limits")
	slices.Sort(out)
	return slices.Compact(out)
}
