package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/engine"

	// Device rules in cgroups need the devices controller's code.
	_ "github.com/opencontainers/cgroups/devices"
)

// Create makes a container from spec.
func (rt *Runtime) Create(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	img, err := rt.images.Inspect(ctx, spec.Image)
	if err != nil {
		return "", err
	}
	argv := commandLine(spec, img.Config)
	if len(argv) == 0 {
		return "", fmt.Errorf("no command specified: %w", engine.ErrInvalidArgument)
	}
	if err := checkSpec(spec); err != nil {
		return "", err
	}
	id := newID()
	name := strings.TrimPrefix(spec.Name, "/")
	rt.mu.Lock()
	if name == "" {
		for name = randomName(); rt.nameTaken(name); name = randomName() + "_" + id[:4] {
		}
	} else if !validName.MatchString(name) {
		rt.mu.Unlock()
		return "", fmt.Errorf("Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, engine.ErrInvalidArgument)
	} else if other := rt.nameTakenBy(name); other != "" {
		rt.mu.Unlock()
		return "", conflict(`Conflict. The container name "/%s" is already in use by container "%s". You have to remove (or rename) that container to be able to reuse that name`, name, other)
	}
	// Reserve the name while the container's files are made.
	placeholder := &ctr{rec: &record{Container: engine.Container{ID: id, Name: name}}, removed: make(chan struct{}), exited: closedChan()}
	rt.byID[id] = placeholder
	rt.mu.Unlock()
	fail := func(err error) (string, error) {
		rt.mu.Lock()
		delete(rt.byID, id)
		rt.mu.Unlock()
		os.RemoveAll(filepath.Join(rt.root, id))
		return "", err
	}

	if spec.StopSignal == "" {
		spec.StopSignal = img.Config.StopSignal
	}
	spec.Healthcheck = mergeHealthcheck(img.Config.Healthcheck, spec.Healthcheck)
	rec := &record{
		Container: engine.Container{
			ID: id, Name: name, Image: spec.Image, ImageID: img.ID, Created: time.Now().UTC(),
			Path: argv[0], Args: argv[1:], Spec: spec, Labels: mergeLabels(img.Config.Labels, spec.Labels),
			State: engine.ContainerState{Status: engine.StatusCreated},
		},
		Env:      mergeEnv(img.Config.Env, spec.Env),
		Cwd:      cmp.Or(spec.WorkingDir, img.Config.WorkingDir, "/"),
		UserSpec: cmp.Or(spec.User, img.Config.User),
		Layers:   img.Layers,
	}
	if !hasEnv(rec.Env, "PATH") {
		rec.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, rec.Env...)
	}
	rec.Env = mergeEnv(rec.Env, []string{"HOSTNAME=" + rec.hostname()})
	if spec.Tty {
		rec.Env = mergeEnv(rec.Env, []string{"TERM=xterm"})
	}
	rec.Spec.ExposedPorts = mergePorts(img.Config.ExposedPorts, spec.ExposedPorts)
	if spec.PublishAll {
		for _, p := range rec.Spec.ExposedPorts {
			port, proto, err := engine.ParsePort(p)
			if err == nil && !published(spec.Ports, port, proto) {
				rec.Spec.Ports = append(rec.Spec.Ports, engine.PortBinding{ContainerPort: port, Proto: proto})
			}
		}
	}
	switch spec.Network {
	case "", "bridge", "default", "host", "none":
	default: // a user-defined network: its first attachment
		rt.netMu.Lock()
		un, err := rt.network(spec.Network)
		rt.netMu.Unlock()
		if err != nil {
			return fail(err)
		}
		rec.Spec.Network = un.meta.Name // by name, even when given by ID
		rec.Networks = []engine.Attachment{un.attachment(rec, spec.Aliases)}
	}
	dir := filepath.Join(rt.root, id)
	for _, d := range []string{dir, filepath.Join(dir, "rootfs"), filepath.Join(dir, "upper"), filepath.Join(dir, "work")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fail(err)
		}
	}
	// From making its volumes until it is listed, no volume removal may
	// take them from under it.
	rt.volMu.Lock()
	unlockVolumes := sync.OnceFunc(rt.volMu.Unlock)
	defer unlockVolumes()
	if err := rt.resolveMounts(rec, img.Config.Volumes); err != nil {
		return fail(err)
	}
	if err := rt.writeEtcFiles(dir, rec); err != nil {
		return fail(err)
	}
	rec.LogPath = filepath.Join(dir, id+"-json.log")
	if err := rec.save(dir); err != nil {
		return fail(err)
	}
	c := &ctr{rt: rt, dir: dir, rec: rec, exited: closedChan(), removed: make(chan struct{})}
	c.streams = &streams{attached: map[*attachment]struct{}{}}
	rt.mu.Lock()
	rt.byID[id] = c
	rt.mu.Unlock()
	unlockVolumes()
	rt.event("create", rec, nil)
	return id, nil
}

func (rt *Runtime) nameTaken(name string) bool { return rt.nameTakenBy(name) != "" }

func (rt *Runtime) nameTakenBy(name string) string {
	for id, c := range rt.byID {
		if c.rec.Name == name {
			return id
		}
	}
	return ""
}

// checkShared refuses, in a VM, a missing bind source outside the folders
// the user's computer shares with it (WithSharedFolders).
func (rt *Runtime) checkShared(source string) error {
	if rt.sharedFolders == nil {
		return nil
	}
	if _, err := os.Lstat(source); err == nil {
		return nil // the VM's own (/var/run/…), or in a share
	}
	clean := filepath.Clean(source)
	for _, f := range rt.sharedFolders {
		if clean == f || strings.HasPrefix(clean, strings.TrimSuffix(f, "/")+"/") {
			return nil
		}
	}
	return fmt.Errorf("mounts denied: the path %s is not shared from your computer with Berth's VM; add a folder that holds it to shares under [vm] in Berth's settings: %w", source, engine.ErrInvalidArgument)
}

// resolveMounts gives every bind mount and volume a host directory: named
// volumes under volumes/<name>/_data, anonymous ones (the request's and
// the image's VOLUME paths) under volumes/<random>/_data.
func (rt *Runtime) resolveMounts(rec *record, imageVolumes []string) error {
	targets := map[string]bool{}
	for _, m := range rec.Spec.Mounts {
		mp := mountPoint{Mount: m}
		switch m.Type {
		case "bind":
			if !filepath.IsAbs(m.Source) {
				return fmt.Errorf("invalid mount %s:%s: a bind mount source must be an absolute path: %w", m.Source, m.Target, engine.ErrInvalidArgument)
			}
			if err := rt.checkShared(m.Source); err != nil {
				return err
			}
			// docker run -v creates a missing source directory; a file is
			// bound as a file.
			if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) {
				if err := os.MkdirAll(m.Source, 0o755); err != nil {
					return err
				}
			}
			mp.hostPath = m.Source
		case "volume", "":
			name, anonymous := m.Source, m.Source == ""
			if anonymous {
				name = newID()
				rec.AnonVolumes = append(rec.AnonVolumes, name)
			}
			host, err := rt.ensureVolume(name, anonymous, nil)
			if err != nil {
				return err
			}
			mp.hostPath = host
		default:
			return fmt.Errorf("mount type %q is not supported (bind or volume): %w", m.Type, engine.ErrInvalidArgument)
		}
		if !filepath.IsAbs(m.Target) {
			return fmt.Errorf("invalid mount target %q: must be absolute: %w", m.Target, engine.ErrInvalidArgument)
		}
		targets[filepath.Clean(m.Target)] = true
		rec.mounts = append(rec.mounts, mp)
	}
	for _, v := range imageVolumes {
		if targets[filepath.Clean(v)] {
			continue
		}
		name := newID()
		rec.AnonVolumes = append(rec.AnonVolumes, name)
		host, err := rt.ensureVolume(name, true, nil)
		if err != nil {
			return err
		}
		rec.mounts = append(rec.mounts, mountPoint{Mount: engine.Mount{Type: "volume", Target: v}, hostPath: host})
	}
	return nil
}

// writeEtcFiles makes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf.
func (rt *Runtime) writeEtcFiles(dir string, rec *record) error {
	if err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(rec.hostname()+"\n"), 0o644); err != nil {
		return err
	}
	if err := rt.writeHosts(dir, rec, false); err != nil {
		return err
	}
	return rt.writeResolvConf(dir, rec)
}

// writeResolvConf writes the container's /etc/resolv.conf: on a
// user-defined network, its DNS server (at the gateway), which knows the
// other containers' names and asks the host's resolvers for the rest;
// else the host's, less loopback resolvers that mean nothing inside the
// container's network namespace. A rootless engine's containers ask
// pasta's DNS relay, which asks the host's resolver (pasta answers from
// the relay's address, so queries must go to it).
func (rt *Runtime) writeResolvConf(dir string, rec *record) error {
	resolv, _ := os.ReadFile("/etc/resolv.conf")
	var kept []string
	dnsServer := ""
	if len(rec.Networks) > 0 && rec.Spec.Network != "host" && rec.Spec.Network != "none" {
		rt.netMu.Lock()
		if un, ok := rt.nets[rec.Networks[0].NetworkID]; ok {
			dnsServer = un.meta.Gateway
		}
		rt.netMu.Unlock()
	}
	if dnsServer != "" {
		kept = append(kept, "nameserver "+dnsServer)
	}
	spec := rec.Spec
	for _, ip := range spec.DNS {
		kept = append(kept, "nameserver "+ip)
	}
	if len(spec.DNSSearch) > 0 {
		kept = append(kept, "search "+strings.Join(spec.DNSSearch, " "))
	}
	if len(spec.DNSOptions) > 0 {
		kept = append(kept, "options "+strings.Join(spec.DNSOptions, " "))
	}
	for _, line := range strings.Split(string(resolv), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 1 && f[0] == "nameserver" && len(spec.DNS) > 0,
			len(f) >= 1 && (f[0] == "search" || f[0] == "domain") && len(spec.DNSSearch) > 0,
			len(f) >= 1 && f[0] == "options" && len(spec.DNSOptions) > 0:
			continue // the container's own choice replaces the host's
		case len(f) >= 2 && f[0] == "nameserver" && dnsServer != "":
			continue // the network's server forwards to them
		case len(f) >= 2 && f[0] == "nameserver" && rt.rootless:
			if !slices.Contains(kept, "nameserver "+DNSForward) {
				kept = append(kept, "nameserver "+DNSForward)
			}
			continue
		case len(f) >= 2 && f[0] == "nameserver" && (strings.HasPrefix(f[1], "127.") || f[1] == "::1"):
			continue
		}
		kept = append(kept, line)
	}
	if dnsServer != "" {
		kept = append(kept, "options ndots:0") // a service's bare name is asked as it is first
	}
	out := strings.TrimSpace(strings.Join(kept, "\n"))
	if !strings.Contains(out, "nameserver") {
		out += "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(strings.TrimSpace(out)+"\n"), 0o644)
}

// writeHosts writes the container's /etc/hosts: itself, its --add-host
// lines, and while it runs the containers it links to (--link), which
// must be running.
func (rt *Runtime) writeHosts(dir string, rec *record, running bool) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	for _, h := range rec.Spec.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			name, ip, _ = strings.Cut(h, "=")
		}
		if ip == "host-gateway" { // the engine's host, as the container reaches it
			ip = cmp.Or(rec.Gateway, "127.0.0.1")
		}
		hosts += ip + "\t" + name + "\n"
	}
	if running {
		for _, l := range rec.Spec.Links {
			name, alias, _ := strings.Cut(l, ":")
			other, err := rt.find(name)
			if err != nil {
				return fmt.Errorf("cannot link to %s: %w", name, err)
			}
			other.mu.Lock()
			ip, up, real := other.rec.IPAddress, other.running, other.rec.Name
			other.mu.Unlock()
			if !up || ip == "" {
				return conflict("Cannot link to a non running container: /%s AS /%s/%s", real, rec.Name, cmp.Or(alias, name))
			}
			hosts += ip + "\t" + strings.Join(slices.Compact([]string{cmp.Or(alias, name), real}), " ") + "\n"
		}
	}
	if rec.IPAddress != "" {
		hosts += rec.IPAddress + "\t" + rec.hostname() + "\n"
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644)
}

func mergeLabels(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func mergePorts(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range append(append([]string(nil), a...), b...) {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func published(bindings []engine.PortBinding, port int, proto string) bool {
	for _, b := range bindings {
		if b.ContainerPort == port && cmp.Or(b.Proto, "tcp") == proto {
			return true
		}
	}
	return false
}
