package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// Create makes a container from spec and returns its ID.
func (c *Client) Create(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	cfg := &container.Config{
		Image: spec.Image, Cmd: spec.Cmd, Entrypoint: spec.Entrypoint, Env: spec.Env, WorkingDir: spec.WorkingDir,
		User: spec.User, Hostname: spec.Hostname, Tty: spec.Tty, OpenStdin: spec.OpenStdin, Labels: spec.Labels,
		StopSignal: spec.StopSignal, StopTimeout: spec.StopTimeout, ExposedPorts: network.PortSet{},
	}
	hc := &container.HostConfig{
		PublishAllPorts: spec.PublishAll, AutoRemove: spec.AutoRemove,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(spec.Restart.Name), MaximumRetryCount: spec.Restart.MaxRetries},
		PortBindings:  network.PortMap{},
	}
	hc.Memory, hc.NanoCPUs = spec.Memory, spec.NanoCPUs
	for _, p := range spec.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			cfg.ExposedPorts[port] = struct{}{}
		}
	}
	for _, b := range spec.Ports {
		proto := b.Proto
		if proto == "" {
			proto = "tcp"
		}
		port, ok := network.PortFrom(uint16(b.ContainerPort), network.IPProtocol(proto))
		if !ok {
			return "", fmt.Errorf("invalid port %d/%s: %w", b.ContainerPort, proto, engine.ErrInvalidArgument)
		}
		pb := network.PortBinding{}
		if b.HostPort != 0 {
			pb.HostPort = strconv.Itoa(b.HostPort)
		}
		if b.HostIP != "" {
			ip, err := netip.ParseAddr(b.HostIP)
			if err != nil {
				return "", fmt.Errorf("invalid host address %q: %w", b.HostIP, engine.ErrInvalidArgument)
			}
			pb.HostIP = ip
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], pb)
		cfg.ExposedPorts[port] = struct{}{}
	}
	for _, m := range spec.Mounts {
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	if spec.NoNewPrivileges {
		hc.SecurityOpt = []string{"no-new-privileges"}
	}
	req := container.CreateRequest{Config: cfg, HostConfig: hc}
	if spec.Network != "" {
		hc.NetworkMode = container.NetworkMode(spec.Network)
		if len(spec.Aliases) > 0 {
			req.NetworkingConfig = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{spec.Network: {Aliases: spec.Aliases}}}
		}
	}
	body, _ := json.Marshal(req)
	q := url.Values{}
	if spec.Name != "" {
		q.Set("name", spec.Name)
	}
	resp, err := c.doJSON(ctx, http.MethodPost, "/containers/create", q, body)
	if err != nil {
		return "", fmt.Errorf("create container from %s: %w", spec.Image, err)
	}
	defer resp.Body.Close()
	var out container.CreateResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	return out.ID, nil
}

func (c *Client) doJSON(ctx context.Context, method, path string, q url.Values, body []byte) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.send(req)
}

func (c *Client) action(ctx context.Context, name, what string, q url.Values) error {
	if err := c.post(ctx, "/containers/"+name+"/"+what, q, nil); err != nil {
		return fmt.Errorf("%s %s: %w", what, name, err)
	}
	return nil
}

func timeoutQuery(timeout *time.Duration) url.Values {
	q := url.Values{}
	if timeout != nil {
		q.Set("t", strconv.Itoa(int(timeout.Seconds())))
	}
	return q
}

// Start runs a container.
func (c *Client) Start(ctx context.Context, name string) error {
	return c.action(ctx, name, "start", nil)
}

// Stop stops a container.
func (c *Client) Stop(ctx context.Context, name string, timeout *time.Duration) error {
	return c.action(ctx, name, "stop", timeoutQuery(timeout))
}

// Kill signals a container.
func (c *Client) Kill(ctx context.Context, name, signal string) error {
	q := url.Values{}
	if signal != "" {
		q.Set("signal", signal)
	}
	return c.action(ctx, name, "kill", q)
}

// Wait waits for a condition ("not-running", "next-exit", "removed").
func (c *Client) Wait(ctx context.Context, name, condition string) (func() (int, error), error) {
	q := url.Values{}
	if condition != "" {
		q.Set("condition", condition)
	}
	resp, err := c.do(ctx, http.MethodPost, "/containers/"+name+"/wait", q, nil)
	if err != nil {
		return nil, fmt.Errorf("wait %s: %w", name, err)
	}
	return func() (int, error) {
		defer resp.Body.Close()
		var out container.WaitResponse
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return -1, fmt.Errorf("wait %s: %w", name, err)
		}
		return int(out.StatusCode), nil
	}, nil
}

// RemoveContainer deletes a container.
func (c *Client) RemoveContainer(ctx context.Context, name string, force, volumes bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "1")
	}
	if volumes {
		q.Set("v", "1")
	}
	resp, err := c.do(ctx, http.MethodDelete, "/containers/"+name, q, nil)
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	resp.Body.Close()
	return nil
}

// Restart stops and starts a container.
func (c *Client) Restart(ctx context.Context, name string, timeout *time.Duration) error {
	return c.action(ctx, name, "restart", timeoutQuery(timeout))
}

// Pause freezes a container.
func (c *Client) Pause(ctx context.Context, name string) error {
	return c.action(ctx, name, "pause", nil)
}

// Unpause thaws a container.
func (c *Client) Unpause(ctx context.Context, name string) error {
	return c.action(ctx, name, "unpause", nil)
}

// Rename renames a container.
func (c *Client) Rename(ctx context.Context, name, newName string) error {
	return c.action(ctx, name, "rename", url.Values{"name": {newName}})
}

// PruneContainers removes stopped containers. (Prune is the images'.)
func (c *Client) PruneContainers(ctx context.Context) ([]string, error) {
	var r container.PruneReport
	if err := c.post(ctx, "/containers/prune", nil, &r); err != nil {
		return nil, fmt.Errorf("prune containers: %w", err)
	}
	return r.ContainersDeleted, nil
}

// exitCodeIn reads the exit code from a listed container's status, "Exited
// (137) 5 seconds ago", as the list has no field of its own for it.
func exitCodeIn(status string) int {
	var code int
	if _, err := fmt.Sscanf(status, "Exited (%d)", &code); err != nil {
		return 0
	}
	return code
}

// ListContainers lists running containers, or all.
func (c *Client) ListContainers(ctx context.Context, all bool) ([]engine.Container, error) {
	q := url.Values{}
	if all {
		q.Set("all", "1")
	}
	var list []container.Summary
	if err := c.getJSON(ctx, "/containers/json", q, &list); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]engine.Container, 0, len(list))
	for _, s := range list {
		ct := engine.Container{ID: s.ID, Image: s.Image, ImageID: s.ImageID, Created: time.Unix(s.Created, 0), Labels: s.Labels,
			State: engine.ContainerState{Status: engine.ContainerStatus(s.State), ExitCode: exitCodeIn(s.Status)}, StatusText: s.Status}
		if len(s.Names) > 0 {
			ct.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		if cmd := strings.Fields(s.Command); len(cmd) > 0 {
			ct.Path, ct.Args = cmd[0], cmd[1:]
		}
		for _, p := range s.Ports {
			if p.PublicPort == 0 {
				continue
			}
			ip := ""
			if p.IP.IsValid() && !p.IP.IsUnspecified() {
				ip = p.IP.String()
			}
			ct.Ports = append(ct.Ports, engine.PortBinding{HostIP: ip, HostPort: int(p.PublicPort), ContainerPort: int(p.PrivatePort), Proto: p.Type})
		}
		ct.Spec.Network = s.HostConfig.NetworkMode
		if s.NetworkSettings != nil {
			ct.Networks = attachments(ct, s.NetworkSettings.Networks)
		}
		out = append(out, ct)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// InspectContainer reads a container's details.
func (c *Client) InspectContainer(ctx context.Context, name string) (engine.Container, error) {
	var r container.InspectResponse
	if err := c.getJSON(ctx, "/containers/"+name+"/json", nil, &r); err != nil {
		return engine.Container{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	ct := engine.Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), ImageID: r.Image, Path: r.Path, Args: r.Args, RestartCount: r.RestartCount, LogPath: r.LogPath}
	if t, err := time.Parse(time.RFC3339Nano, r.Created); err == nil {
		ct.Created = t
	}
	if st := r.State; st != nil {
		ct.State = engine.ContainerState{Status: engine.ContainerStatus(st.Status), Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error, OOMKilled: st.OOMKilled}
		ct.State.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
		ct.State.FinishedAt, _ = time.Parse(time.RFC3339Nano, st.FinishedAt)
	}
	if cfg := r.Config; cfg != nil {
		ct.Image, ct.Labels = cfg.Image, cfg.Labels
		ct.Spec = engine.ContainerSpec{Name: ct.Name, Image: cfg.Image, Cmd: cfg.Cmd, Entrypoint: cfg.Entrypoint, Env: cfg.Env, WorkingDir: cfg.WorkingDir,
			User: cfg.User, Hostname: cfg.Hostname, Tty: cfg.Tty, OpenStdin: cfg.OpenStdin, Labels: cfg.Labels, StopSignal: cfg.StopSignal, StopTimeout: cfg.StopTimeout}
	}
	if hc := r.HostConfig; hc != nil {
		ct.Spec.AutoRemove, ct.Spec.PublishAll = hc.AutoRemove, hc.PublishAllPorts
		ct.Spec.Network = string(hc.NetworkMode)
		ct.Spec.Restart = engine.RestartPolicy{Name: string(hc.RestartPolicy.Name), MaxRetries: hc.RestartPolicy.MaximumRetryCount}
		for port, bindings := range hc.PortBindings {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				ip := ""
				if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
					ip = b.HostIP.String()
				}
				ct.Spec.Ports = append(ct.Spec.Ports, engine.PortBinding{HostIP: ip, HostPort: hp, ContainerPort: int(port.Num()), Proto: string(port.Proto())})
			}
		}
	}
	for _, m := range r.Mounts {
		ct.Spec.Mounts = append(ct.Spec.Mounts, engine.Mount{Type: string(m.Type), Source: m.Name, Target: m.Destination, ReadOnly: !m.RW})
		if m.Type == mount.TypeBind {
			ct.Spec.Mounts[len(ct.Spec.Mounts)-1].Source = m.Source
		}
	}
	if ns := r.NetworkSettings; ns != nil {
		for port, bindings := range ns.Ports {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				ip := ""
				if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
					ip = b.HostIP.String()
				}
				ct.Ports = append(ct.Ports, engine.PortBinding{HostIP: ip, HostPort: hp, ContainerPort: int(port.Num()), Proto: string(port.Proto())})
			}
		}
		sort.Slice(ct.Ports, func(i, j int) bool { return ct.Ports[i].ContainerPort < ct.Ports[j].ContainerPort })
		for _, ep := range ns.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				ct.IPAddress = ep.IPAddress.String()
				if ep.Gateway.IsValid() {
					ct.Gateway = ep.Gateway.String()
				}
			}
		}
		ct.Networks = attachments(ct, ns.Networks)
	}
	return ct, nil
}

// attachments are a container's user-defined networks (not the bridge,
// host or none every engine has), by name.
func attachments(ct engine.Container, eps map[string]*network.EndpointSettings) []engine.Attachment {
	var out []engine.Attachment
	for name, ep := range eps {
		if ep == nil || name == "bridge" || name == "host" || name == "none" {
			continue
		}
		a := engine.Attachment{NetworkID: ep.NetworkID, Network: name, ContainerID: ct.ID, ContainerName: ct.Name, Aliases: ep.Aliases, PrefixLen: ep.IPPrefixLen}
		if ep.IPAddress.IsValid() {
			a.IPAddress = ep.IPAddress.String()
		}
		if ep.Gateway.IsValid() {
			a.Gateway = ep.Gateway.String()
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b engine.Attachment) int { return strings.Compare(a.Network, b.Network) })
	return out
}

// Logs sends a container's log entries to fn; following, until the
// container stops or ctx ends.
func (c *Client) Logs(ctx context.Context, name string, opts engine.LogOptions, fn func(engine.LogEntry) error) error {
	q := url.Values{"stdout": {strconv.FormatBool(opts.Stdout)}, "stderr": {strconv.FormatBool(opts.Stderr)}, "timestamps": {"1"}}
	if opts.Follow {
		q.Set("follow", "1")
	}
	if opts.Tail >= 0 {
		q.Set("tail", strconv.Itoa(opts.Tail))
	}
	if !opts.Since.IsZero() {
		q.Set("since", timestamp(opts.Since.UnixNano()))
	}
	if !opts.Until.IsZero() {
		q.Set("until", timestamp(opts.Until.UnixNano()))
	}
	resp, err := c.do(ctx, http.MethodGet, "/containers/"+name+"/logs", q, nil)
	if err != nil {
		return fmt.Errorf("logs of %s: %w", name, err)
	}
	defer resp.Body.Close()
	emit := func(stream string, line []byte) error {
		e := engine.LogEntry{Stream: stream, Data: line}
		if ts, rest, ok := bytes.Cut(line, []byte(" ")); ok {
			if t, err := time.Parse(time.RFC3339Nano, string(ts)); err == nil {
				e.Time, e.Data = t, rest
			}
		}
		return fn(e)
	}
	if ct := resp.Header.Get("Content-Type"); ct == "application/vnd.docker.raw-stream" {
		sc := bufio.NewScanner(resp.Body) // a TTY: one stream, no frames
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if err := emit("stdout", append(sc.Bytes(), '\n')); err != nil {
				return err
			}
		}
		return nil
	}
	return demux(resp.Body, emit)
}

// demux reads docker's multiplexed stream: frames of an 8-byte header
// (stream, 0, 0, 0, big-endian size) and the payload, one line each here.
func demux(r io.Reader, emit func(stream string, line []byte) error) error {
	br := bufio.NewReader(r)
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			return err
		}
		size := binary.BigEndian.Uint32(hdr[4:])
		data := make([]byte, size)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil
		}
		stream := "stdout"
		if hdr[0] == 2 {
			stream = "stderr"
		}
		if err := emit(stream, data); err != nil {
			return err
		}
	}
}

// Stats samples a container's resource use once.
func (c *Client) Stats(ctx context.Context, name string) (engine.ContainerStats, error) {
	var s container.StatsResponse
	if err := c.getJSON(ctx, "/containers/"+name+"/stats", url.Values{"stream": {"0"}}, &s); err != nil {
		return engine.ContainerStats{}, fmt.Errorf("stats of %s: %w", name, err)
	}
	return statsOf(s), nil
}

func statsOf(s container.StatsResponse) engine.ContainerStats {
	return engine.ContainerStats{Read: s.Read, CPUTotal: s.CPUStats.CPUUsage.TotalUsage, SystemCPU: s.CPUStats.SystemUsage, OnlineCPUs: int(s.CPUStats.OnlineCPUs),
		MemoryUsage: s.MemoryStats.Usage, MemoryLimit: s.MemoryStats.Limit, PIDs: s.PidsStats.Current}
}

// StatsStream follows a container's resource use as the engine streams it
// (a sample a second) until the container stops or ctx ends.
func (c *Client) StatsStream(ctx context.Context, name string, fn func(engine.ContainerStats)) error {
	resp, err := c.do(ctx, http.MethodGet, "/containers/"+name+"/stats", url.Values{"stream": {"1"}}, nil)
	if err != nil {
		return fmt.Errorf("stats of %s: %w", name, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var s container.StatsResponse
		if err := dec.Decode(&s); err != nil {
			if err == io.EOF || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("stats of %s: %w", name, err)
		}
		fn(statsOf(s))
	}
}

// ExtractArchive is docker cp into a container: the tar archive is
// unpacked into the folder dir.
func (c *Client) ExtractArchive(ctx context.Context, name, dir string, archive io.Reader, opts engine.ExtractOptions) error {
	q := url.Values{"path": {dir}}
	if opts.NoOverwriteDirNonDir {
		q.Set("noOverwriteDirNonDir", "true")
	}
	if opts.KeepOwners {
		q.Set("copyUIDGID", "true")
	}
	resp, err := c.do(ctx, http.MethodPut, "/containers/"+url.PathEscape(name)+"/archive", q, archive)
	if err != nil {
		return fmt.Errorf("copy into %s: %w", name, err)
	}
	resp.Body.Close()
	return nil
}

// Containers is the client's container roles under the engine's names
// (the Client's own List, Inspect, Remove and Prune are the images').
func (c *Client) Containers() ContainerClient { return ContainerClient{c} }

// ContainerClient implements the engine's container interfaces.
type ContainerClient struct{ c *Client }

func (cc ContainerClient) Create(ctx context.Context, spec engine.ContainerSpec) (string, error) {
	return cc.c.Create(ctx, spec)
}
func (cc ContainerClient) Start(ctx context.Context, name string) error { return cc.c.Start(ctx, name) }
func (cc ContainerClient) StatsStream(ctx context.Context, name string, fn func(engine.ContainerStats)) error {
	return cc.c.StatsStream(ctx, name, fn)
}
func (cc ContainerClient) Stop(ctx context.Context, name string, t *time.Duration) error {
	return cc.c.Stop(ctx, name, t)
}
func (cc ContainerClient) Kill(ctx context.Context, name, sig string) error {
	return cc.c.Kill(ctx, name, sig)
}
func (cc ContainerClient) Wait(ctx context.Context, name, cond string) (func() (int, error), error) {
	return cc.c.Wait(ctx, name, cond)
}
func (cc ContainerClient) Remove(ctx context.Context, name string, force, volumes bool) error {
	return cc.c.RemoveContainer(ctx, name, force, volumes)
}
func (cc ContainerClient) List(ctx context.Context, all bool) ([]engine.Container, error) {
	return cc.c.ListContainers(ctx, all)
}
func (cc ContainerClient) Inspect(ctx context.Context, name string) (engine.Container, error) {
	return cc.c.InspectContainer(ctx, name)
}
func (cc ContainerClient) Logs(ctx context.Context, name string, opts engine.LogOptions, fn func(engine.LogEntry) error) error {
	return cc.c.Logs(ctx, name, opts, fn)
}
func (cc ContainerClient) Stats(ctx context.Context, name string) (engine.ContainerStats, error) {
	return cc.c.Stats(ctx, name)
}
func (cc ContainerClient) Restart(ctx context.Context, name string, t *time.Duration) error {
	return cc.c.Restart(ctx, name, t)
}
func (cc ContainerClient) Pause(ctx context.Context, name string) error { return cc.c.Pause(ctx, name) }
func (cc ContainerClient) Unpause(ctx context.Context, name string) error {
	return cc.c.Unpause(ctx, name)
}
func (cc ContainerClient) Rename(ctx context.Context, name, newName string) error {
	return cc.c.Rename(ctx, name, newName)
}
func (cc ContainerClient) Prune(ctx context.Context) ([]string, error) {
	return cc.c.PruneContainers(ctx)
}

var (
	_ engine.Containers        = ContainerClient{}
	_ engine.ContainerViews    = ContainerClient{}
	_ engine.ContainerControls = ContainerClient{}
)

// Top lists the processes running in a container (docker top).
func (c *Client) Top(ctx context.Context, name string) (engine.ProcessList, error) {
	var pl engine.ProcessList
	if err := c.getJSON(ctx, "/containers/"+url.PathEscape(name)+"/top", nil, &pl); err != nil {
		return pl, fmt.Errorf("processes of %s: %w", name, err)
	}
	return pl, nil
}

// Changes lists what a container changed in its image's files (docker
// diff).
func (c *Client) Changes(ctx context.Context, name string) ([]engine.FileChange, error) {
	var out []engine.FileChange
	if err := c.getJSON(ctx, "/containers/"+url.PathEscape(name)+"/changes", nil, &out); err != nil {
		return nil, fmt.Errorf("changes of %s: %w", name, err)
	}
	return out, nil
}

var _ engine.ContainerInsight = (*Client)(nil)
