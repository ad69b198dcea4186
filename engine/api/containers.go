package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/human"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// containerRoutes serves /containers/... and /exec/...; ok is false when
// the path is not one of them.
func (s *server) containerRoutes(w http.ResponseWriter, r *http.Request, p string) bool {
	if s.b.Containers == nil {
		return false
	}
	m := r.Method
	switch {
	case p == "/containers/json" && m == http.MethodGet:
		s.containerList(w, r)
	case p == "/containers/create" && m == http.MethodPost:
		s.containerCreate(w, r)
	case p == "/containers/prune" && m == http.MethodPost:
		s.containerPrune(w, r)
	case strings.HasPrefix(p, "/exec/"):
		s.execRoutes(w, r, strings.TrimPrefix(p, "/exec/"))
	case strings.HasPrefix(p, "/containers/"):
		rest := strings.TrimPrefix(p, "/containers/")
		id, action, _ := strings.Cut(rest, "/")
		if m == http.MethodDelete && action == "" {
			s.containerDelete(w, r, id)
			return true
		}
		h, ok := map[string]func(http.ResponseWriter, *http.Request, string){
			"GET json":     s.containerInspect,
			"POST start":   s.containerStart,
			"POST stop":    s.containerStop,
			"POST restart": s.containerRestart,
			"POST kill":    s.containerKill,
			"POST wait":    s.containerWait,
			"POST attach":  s.containerAttach,
			"GET logs":     s.containerLogs,
			"GET stats":    s.containerStats,
			"POST pause":   s.containerPause,
			"POST unpause": s.containerUnpause,
			"POST rename":  s.containerRename,
			"POST update":  s.containerUpdate,
			"POST resize":  s.containerResize,
			"POST exec":    s.execCreate,
			"HEAD archive": s.archiveStat,
			"GET archive":  s.archiveGet,
			"PUT archive":  s.archivePut,
			"GET top":      s.containerTop,
			"GET export":   s.containerExport,
			"GET changes":  s.containerChanges,
		}[m+" "+action]
		if !ok {
			return false
		}
		h(w, r, id)
	default:
		return false
	}
	return true
}

// healthOf is a container's health as dockerd's inspect shows it.
func healthOf(h *engine.Health) *container.Health {
	if h == nil {
		return nil
	}
	out := &container.Health{Status: container.HealthStatus(h.Status), FailingStreak: h.FailingStreak, Log: []*container.HealthcheckResult{}}
	for _, r := range h.Log {
		out.Log = append(out.Log, &container.HealthcheckResult{Start: r.Start, End: r.End, ExitCode: r.ExitCode, Output: r.Output})
	}
	return out
}

func (s *server) containerCreate(w http.ResponseWriter, r *http.Request) {
	var req container.CreateRequest
	if !decodeJSON(w, r, &req, "create request") {
		return
	}
	if req.Config == nil {
		writeError(w, http.StatusBadRequest, errors.New("config cannot be empty in order to create a container"))
		return
	}
	spec, err := specFrom(r.URL.Query().Get("name"), req)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	id, err := s.b.Containers.Create(r.Context(), spec)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"Id": id, "Warnings": []string{}})
}

func (s *server) containerList(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	all := boolParam(r, "all") || len(f["status"]) > 0
	list, err := s.b.ContainerViews.List(r.Context(), all)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := []container.Summary{}
	for _, c := range list {
		if !matchContainer(f, c) {
			continue
		}
		out = append(out, containerSummary(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// containerSummary is a container as docker ps (and system df) read it.
func containerSummary(c engine.Container) container.Summary {
	sum := container.Summary{
		ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Image, ImageID: c.ImageID,
		Command: strings.Join(append([]string{c.Path}, c.Args...), " "), Created: c.Created.Unix(),
		Labels: nonNilMap(c.Labels), State: container.ContainerState(c.State.Status), Status: human.Status(c.State, time.Now()),
		Ports: []container.PortSummary{}, Mounts: []container.MountPoint{},
	}
	sum.HostConfig.NetworkMode = string(networkMode(c))
	for _, p := range c.Ports {
		ps := container.PortSummary{PrivatePort: uint16(p.ContainerPort), PublicPort: uint16(p.HostPort), Type: p.Proto}
		ps.IP, _ = netip.ParseAddr(cmp.Or(p.HostIP, "0.0.0.0"))
		sum.Ports = append(sum.Ports, ps)
	}
	for _, m := range c.Spec.Mounts {
		sum.Mounts = append(sum.Mounts, mountPoint(m))
	}
	sum.NetworkSettings = &container.NetworkSettingsSummary{Networks: endpoints(c)}
	return sum
}

func matchContainer(f map[string][]string, c engine.Container) bool {
	anyOf := func(key string, ok func(string) bool) bool { return anyOrNone(f[key], ok) }
	return anyOf("status", func(v string) bool { return v == string(c.State.Status) }) &&
		anyOf("name", func(v string) bool { return strings.Contains(c.Name, strings.TrimPrefix(v, "/")) }) &&
		anyOf("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		anyOf("ancestor", func(v string) bool { return c.Image == v || c.ImageID == v }) &&
		engine.MatchLabels(f["label"], c.Labels) &&
		anyOf("exited", func(v string) bool {
			return c.State.Status == engine.StatusExited && strconv.Itoa(c.State.ExitCode) == v
		})
}

// humanStatus is the STATUS column of docker ps.

func mountPoint(m engine.Mount) container.MountPoint {
	mp := container.MountPoint{Type: "volume", Name: m.Source, Destination: m.Target, RW: !m.ReadOnly, Driver: "local"}
	if m.Type == "bind" {
		mp = container.MountPoint{Type: "bind", Source: m.Source, Destination: m.Target, RW: !m.ReadOnly, Propagation: "rprivate"}
	}
	return mp
}

// endpoints are a container's networks as dockerd shows them: the
// engine's bridge (or host, or none), and each user-defined network.
func endpoints(c engine.Container) map[string]*network.EndpointSettings {
	out := map[string]*network.EndpointSettings{}
	switch {
	case c.Spec.OnBridge():
		ep := &network.EndpointSettings{NetworkID: networkID("bridge"), IPPrefixLen: 16, EndpointID: c.ID}
		ep.IPAddress, _ = netip.ParseAddr(c.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(c.Gateway)
		ep.MacAddress.UnmarshalText([]byte(c.MacAddress))
		out["bridge"] = ep
	case c.Spec.Network == "host" || c.Spec.Network == "none":
		out[c.Spec.Network] = &network.EndpointSettings{NetworkID: networkID(c.Spec.Network)}
	}
	for _, a := range c.Networks {
		ep := &network.EndpointSettings{NetworkID: a.NetworkID, Aliases: nonNil(a.Aliases), IPPrefixLen: a.PrefixLen, DNSNames: append([]string{c.Name}, a.Aliases...)}
		if a.IPAddress != "" {
			ep.EndpointID = c.ID
		}
		ep.IPAddress, _ = netip.ParseAddr(a.IPAddress)
		ep.Gateway, _ = netip.ParseAddr(a.Gateway)
		ep.MacAddress.UnmarshalText([]byte(a.MacAddress))
		out[a.Network] = ep
	}
	return out
}

// networkMode is HostConfig.NetworkMode: the network it was created on.
func networkMode(c engine.Container) container.NetworkMode {
	if c.Spec.OnBridge() {
		return "bridge"
	}
	return container.NetworkMode(c.Spec.Network)
}

func (s *server) containerInspect(w http.ResponseWriter, r *http.Request, id string) {
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	st := c.State
	resp := container.InspectResponse{
		ID: c.ID, Created: c.Created.Format(time.RFC3339Nano), Path: c.Path, Args: nonNil(c.Args),
		State: &container.State{
			Status: container.ContainerState(st.Status), Running: st.Status == engine.StatusRunning || st.Status == engine.StatusPaused,
			Paused: st.Status == engine.StatusPaused, Restarting: st.Status == engine.StatusRestarting,
			OOMKilled: st.OOMKilled, Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: zeroTime(st.StartedAt), FinishedAt: zeroTime(st.FinishedAt), Health: healthOf(st.Health),
		},
		Image: c.ImageID, LogPath: c.LogPath, Name: "/" + c.Name, RestartCount: c.RestartCount,
		Driver: s.storageDriver(), Platform: "linux", Mounts: []container.MountPoint{},
		Config: &container.Config{
			Hostname: cmp.Or(c.Spec.Hostname, c.ID[:12]), User: c.Spec.User, Tty: c.Spec.Tty, OpenStdin: c.Spec.OpenStdin,
			Env: c.Spec.Env, Cmd: c.Spec.Cmd, Image: c.Image, WorkingDir: c.Spec.WorkingDir, Entrypoint: c.Spec.Entrypoint,
			Labels: nonNilMap(c.Labels), StopSignal: c.Spec.StopSignal, StopTimeout: c.Spec.StopTimeout,
			ExposedPorts: network.PortSet{},
		},
		HostConfig: &container.HostConfig{
			NetworkMode: networkMode(c), AutoRemove: c.Spec.AutoRemove, PublishAllPorts: c.Spec.PublishAll,
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(cmp.Or(c.Spec.Restart.Name, "no")), MaximumRetryCount: c.Spec.Restart.MaxRetries},
			PortBindings:  network.PortMap{},
			// What Berth keeps; docker-py reads the type to know logs can be read.
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{}},
		},
		NetworkSettings: &container.NetworkSettings{Ports: network.PortMap{}, Networks: endpoints(c)},
	}
	resp.HostConfig.Memory, resp.HostConfig.NanoCPUs = c.Spec.Memory, c.Spec.NanoCPUs
	if h := c.Spec.Healthcheck; h != nil {
		resp.Config.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	for _, p := range c.Spec.ExposedPorts {
		if port, err := network.ParsePort(p); err == nil {
			resp.Config.ExposedPorts[port] = struct{}{}
		}
	}
	for _, p := range c.Ports {
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.ContainerPort, cmp.Or(p.Proto, "tcp")))
		if err != nil {
			continue
		}
		ip, _ := netip.ParseAddr(cmp.Or(p.HostIP, "0.0.0.0"))
		b := network.PortBinding{HostIP: ip, HostPort: strconv.Itoa(p.HostPort)}
		resp.NetworkSettings.Ports[port] = append(resp.NetworkSettings.Ports[port], b)
	}
	for _, p := range c.Spec.Ports { // as requested: HostPort "" when any port would do
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.ContainerPort, cmp.Or(p.Proto, "tcp")))
		if err != nil {
			continue
		}
		ip, _ := netip.ParseAddr(p.HostIP)
		hp := ""
		if p.HostPort != 0 {
			hp = strconv.Itoa(p.HostPort)
		}
		resp.HostConfig.PortBindings[port] = append(resp.HostConfig.PortBindings[port], network.PortBinding{HostIP: ip, HostPort: hp})
	}
	for _, m := range c.Spec.Mounts {
		resp.Mounts = append(resp.Mounts, mountPoint(m))
	}
	writeJSON(w, http.StatusOK, resp)
}

func zeroTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

func (s *server) containerStart(w http.ResponseWriter, r *http.Request, id string) {
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	if c.State.Status == engine.StatusRunning || c.State.Status == engine.StatusPaused {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	// The container outlives this request.
	if err := s.b.Containers.Start(context.WithoutCancel(r.Context()), id); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func stopTimeout(r *http.Request) *time.Duration {
	v := r.URL.Query().Get("t")
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	d := time.Duration(n) * time.Second
	if n < 0 {
		d = 365 * 24 * time.Hour // -1: wait for ever
	}
	return &d
}

func (s *server) containerStop(w http.ResponseWriter, r *http.Request, id string) {
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	if c.State.Status != engine.StatusRunning && c.State.Status != engine.StatusPaused {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if err := s.b.Containers.Stop(r.Context(), id, stopTimeout(r)); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) containerRestart(w http.ResponseWriter, r *http.Request, id string) {
	if err := s.b.ContainerControls.Restart(context.WithoutCancel(r.Context()), id, stopTimeout(r)); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) containerKill(w http.ResponseWriter, r *http.Request, id string) {
	if err := s.b.Containers.Kill(r.Context(), id, r.URL.Query().Get("signal")); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// containerWait registers the wait, answers with the headers at once (the
// docker CLI starts the container only after that), then the exit code.
func (s *server) containerWait(w http.ResponseWriter, r *http.Request, id string) {
	wait, err := s.b.Containers.Wait(r.Context(), id, r.URL.Query().Get("condition"))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	code, err := wait()
	resp := container.WaitResponse{StatusCode: int64(code)}
	if err != nil {
		resp.Error = &container.WaitExitError{Message: err.Error()}
	}
	json.NewEncoder(w).Encode(resp)
}

func (s *server) containerDelete(w http.ResponseWriter, r *http.Request, id string) {
	if err := s.b.Containers.Remove(r.Context(), id, boolParam(r, "force"), boolParam(r, "v")); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) containerPrune(w http.ResponseWriter, r *http.Request) {
	ids, err := s.b.ContainerControls.Prune(r.Context())
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, container.PruneReport{ContainersDeleted: nonNil(ids)})
}

func (s *server) containerPause(w http.ResponseWriter, r *http.Request, id string) {
	s.noContent(w, s.b.ContainerControls.Pause(r.Context(), id))
}

func (s *server) containerUnpause(w http.ResponseWriter, r *http.Request, id string) {
	s.noContent(w, s.b.ContainerControls.Unpause(r.Context(), id))
}

// containerUpdater changes a container's limits and restart policy (docker
// update), at once when it runs, and returns warnings.
type containerUpdater interface {
	Update(ctx context.Context, name string, u engine.ContainerUpdate) ([]string, error)
}

// containerUpdate is docker update: memory, CPUs, the process limit and
// the restart policy; the rest is refused by name.
func (s *server) containerUpdate(w http.ResponseWriter, r *http.Request, id string) {
	updater, ok := s.b.ContainerControls.(containerUpdater)
	if !ok {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot update containers: %w", engine.ErrNotSupported))
		return
	}
	var req container.UpdateConfig
	if !decodeJSON(w, r, &req, "update request") {
		return
	}
	res := req.Resources
	var refuse []string
	add := func(cond bool, what string) {
		if cond {
			refuse = append(refuse, what)
		}
	}
	add(res.CPUShares != 0, "--cpu-shares")
	add(res.CPUPeriod != 0 || res.CPUQuota != 0 || res.CPURealtimePeriod != 0 || res.CPURealtimeRuntime != 0, "--cpu-period/--cpu-quota (use --cpus)")
	add(res.CpusetCpus != "" || res.CpusetMems != "", "--cpuset-cpus/--cpuset-mems")
	add(res.BlkioWeight != 0, "--blkio-weight")
	add(res.MemoryReservation != 0, "--memory-reservation")
	add(res.MemorySwap != 0 && res.MemorySwap != -1 && res.MemorySwap != res.Memory && res.MemorySwap != 2*res.Memory, "--memory-swap")
	if len(refuse) > 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("Berth does not support %s: %w", strings.Join(refuse, ", "), engine.ErrNotSupported))
		return
	}
	var u engine.ContainerUpdate
	if res.Memory != 0 {
		u.Memory = &res.Memory
	}
	if res.NanoCPUs != 0 {
		u.NanoCPUs = &res.NanoCPUs
	}
	if res.PidsLimit != nil {
		u.PidsLimit = res.PidsLimit
	}
	if req.RestartPolicy.Name != "" {
		u.Restart = &engine.RestartPolicy{Name: string(req.RestartPolicy.Name), MaxRetries: req.RestartPolicy.MaximumRetryCount}
	}
	warnings, err := updater.Update(r.Context(), id, u)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Warnings": nonNil(warnings)})
}

func (s *server) containerRename(w http.ResponseWriter, r *http.Request, id string) {
	s.noContent(w, s.b.ContainerControls.Rename(r.Context(), id, r.URL.Query().Get("name")))
}

func (s *server) containerResize(w http.ResponseWriter, r *http.Request, id string) {
	h, _ := strconv.Atoi(r.URL.Query().Get("h"))
	wd, _ := strconv.Atoi(r.URL.Query().Get("w"))
	if err := s.b.ContainerIO.Resize(r.Context(), id, uint(h), uint(wd)); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *server) noContent(w http.ResponseWriter, err error) {
	if err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// containerAttach hijacks the connection and streams the container's
// output (and the client's input, with stdin=1) until the run ends.
func (s *server) containerAttach(w http.ResponseWriter, r *http.Request, id string) {
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	q := r.URL.Query()
	conn, rw, err := hijack(w)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	defer conn.Close()
	g := &gate{w: conn, open: make(chan struct{})}
	stdout, stderr := streamWriters(g, c.Spec.Tty)
	opts := engine.AttachOptions{Logs: boolParam(r, "logs")}
	if q.Get("stdout") == "1" || q.Get("stdout") == "true" {
		opts.Stdout = stdout
	}
	if q.Get("stderr") == "1" || q.Get("stderr") == "true" {
		opts.Stderr = stderr
	}
	// The connection is ours now; r.Context() no longer follows the client.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if (q.Get("stdin") == "1" || q.Get("stdin") == "true") && c.Spec.OpenStdin {
		keys, err := detachKeys(cmp.Or(q.Get("detachKeys"), DefaultDetachKeys))
		if err != nil {
			rw.WriteString("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n" + err.Error())
			rw.Flush()
			return
		}
		// The detach keys end this attach and leave the container running.
		opts.Stdin = &detachReader{r: rw.Reader, keys: keys, detach: cancel}
	}
	wait, err := s.b.ContainerIO.Attach(ctx, id, opts)
	if err != nil {
		rw.WriteString("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n" + err.Error())
		rw.Flush()
		return
	}
	if err := writeUpgrade(rw, r, c.Spec.Tty); err != nil {
		return
	}
	close(g.open)
	// Without stdin the CLI half-closes its side at once, so reading EOF
	// does not mean it left; a client that did go is noticed when a write
	// to it fails, as in dockerd.
	wait()
	closeWriter(conn)
}

func (s *server) containerLogs(w http.ResponseWriter, r *http.Request, id string) {
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	q := r.URL.Query()
	opts := engine.LogOptions{Stdout: boolParam(r, "stdout"), Stderr: boolParam(r, "stderr"), Follow: boolParam(r, "follow"), Timestamps: boolParam(r, "timestamps"), Tail: -1}
	if !opts.Stdout && !opts.Stderr {
		writeError(w, http.StatusBadRequest, errors.New("Bad parameters: you must choose at least one stream"))
		return
	}
	if n, err := strconv.Atoi(q.Get("tail")); err == nil && n >= 0 {
		opts.Tail = n // anything else ("all", "abc") is every line, as dockerd
	}
	if since, err := timestampParam(q.Get("since")); err == nil && since > 0 {
		opts.Since = time.Unix(0, since)
	}
	if until, err := timestampParam(q.Get("until")); err == nil && until > 0 {
		opts.Until = time.Unix(0, until)
	}
	ct := "application/vnd.docker.multiplexed-stream"
	if c.Spec.Tty {
		ct = "application/vnd.docker.raw-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	stdout, stderr := streamWriters(w, c.Spec.Tty)
	s.b.ContainerViews.Logs(r.Context(), id, opts, func(e engine.LogEntry) error {
		out := stdout
		if e.Stream == "stderr" {
			out = stderr
		}
		data := e.Data
		if opts.Timestamps {
			data = append([]byte(e.Time.Format(time.RFC3339Nano)+" "), data...)
		}
		if _, err := out.Write(data); err != nil {
			return err
		}
		return rc.Flush()
	})
}

func (s *server) containerStats(w http.ResponseWriter, r *http.Request, id string) {
	c, err := s.b.ContainerViews.Inspect(r.Context(), id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	stream := boolParamOr(r, "stream", true)
	oneShot := boolParam(r, "one-shot")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	prev, err := s.b.ContainerViews.Stats(r.Context(), id)
	if err != nil {
		return
	}
	if !stream && !oneShot {
		// docker's CPU % needs two samples.
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	for {
		cur, err := s.b.ContainerViews.Stats(r.Context(), id)
		if err != nil {
			return
		}
		enc.Encode(statsResponse(c, cur, prev))
		rc.Flush()
		if !stream {
			return
		}
		prev = cur
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
			return
		}
	}
}

func statsResponse(c engine.Container, cur, prev engine.ContainerStats) container.StatsResponse {
	resp := container.StatsResponse{ID: c.ID, Name: "/" + c.Name, OSType: "linux", Read: cur.Read, PreRead: prev.Read}
	resp.CPUStats = container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: cur.CPUTotal}, SystemUsage: cur.SystemCPU, OnlineCPUs: uint32(cur.OnlineCPUs)}
	resp.PreCPUStats = container.CPUStats{CPUUsage: container.CPUUsage{TotalUsage: prev.CPUTotal}, SystemUsage: prev.SystemCPU, OnlineCPUs: uint32(prev.OnlineCPUs)}
	resp.MemoryStats = container.MemoryStats{Usage: cur.MemoryUsage, Limit: cur.MemoryLimit, Stats: map[string]uint64{}}
	resp.PidsStats = container.PidsStats{Current: cur.PIDs}
	return resp
}
