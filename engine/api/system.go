package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
)

func (s *server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "Berth Engine"},
		Version:       s.info.Version,
		APIVersion:    APIVersion,
		MinAPIVersion: MinAPIVersion,
		Os:            "linux",
		Arch:          runtime.GOARCH,
		GoVersion:     runtime.Version(),
		KernelVersion: kernelVersion(),
		Components: []system.ComponentVersion{{
			Name: "Engine", Version: s.info.Version,
			Details: map[string]string{"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "Os": "linux", "Arch": runtime.GOARCH, "GoVersion": runtime.Version()},
		}},
	})
}

func (s *server) systemInfo(w http.ResponseWriter, r *http.Request) {
	list, err := s.b.Images.List(r.Context())
	if err != nil {
		writeEngineError(w, err)
		return
	}
	indexes := map[string]*registry.IndexInfo{
		"docker.io": {Name: "docker.io", Mirrors: []string{}, Secure: true, Official: true},
	}
	for _, h := range s.info.InsecureRegistries {
		indexes[h] = &registry.IndexInfo{Name: h, Mirrors: []string{}, Secure: false}
	}
	writeJSON(w, http.StatusOK, system.Info{
		ID:                 "berth",
		Images:             len(list),
		Driver:             s.storageDriver(),
		DriverStatus:       [][2]string{{"Backing Filesystem", "overlayfs lower directories"}},
		SystemTime:         time.Now().Format(time.RFC3339Nano),
		LoggingDriver:      "json-file",
		CgroupDriver:       "cgroupfs",
		KernelVersion:      kernelVersion(),
		OperatingSystem:    "Berth Engine",
		OSType:             "linux",
		Architecture:       runtime.GOARCH,
		IndexServerAddress: "https://index.docker.io/v1/",
		RegistryConfig: &registry.ServiceConfig{
			InsecureRegistryCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
			IndexConfigs:          indexes,
			Mirrors:               []string{},
		},
		NCPU:            runtime.NumCPU(),
		MemTotal:        memTotal(),
		DockerRootDir:   s.info.DataRoot,
		Name:            hostname(),
		ServerVersion:   s.info.Version,
		Labels:          []string{},
		Swarm:           swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		Warnings:        append([]string{}, s.info.Warnings...),
		SecurityOptions: append([]string{}, s.info.SecurityOptions...),
	})
}

// events streams `docker events`: the history since ?since=, then live
// events until ?until= or the client goes away.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	q := r.URL.Query()
	filter := engine.EventFilter{Types: f["type"], Actions: f["event"], IDs: append(f["image"], f["container"]...)}
	if filter.Since, err = timestampParam(q.Get("since")); err != nil {
		writeEngineError(w, err)
		return
	}
	if filter.Until, err = timestampParam(q.Get("until")); err != nil {
		writeEngineError(w, err)
		return
	}
	stream := newJSONStream(w, false)
	// The headers go out now, before any event: docker stats waits for
	// them before it lists the containers. (Not for every stream: once the
	// headers are out, the server no longer lets a handler read the
	// request's body, which load and build still do.)
	stream.rc.Flush()
	for e := range s.b.Events.Subscribe(r.Context(), filter) {
		msg := events.Message{
			Type:     events.Type(e.Type),
			Action:   events.Action(e.Action),
			Actor:    events.Actor{ID: e.ID, Attributes: e.Attributes},
			Scope:    "local",
			Time:     e.Time.Unix(),
			TimeNano: e.Time.UnixNano(),
		}
		stream.encode(msg)
	}
}

// timestampParam reads docker's "seconds[.nanoseconds]" timestamps.
func timestampParam(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	secs, frac, _ := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid timestamp %q: %w", v, engine.ErrInvalidArgument)
	}
	var nsec int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if nsec, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, fmt.Errorf("invalid timestamp %q: %w", v, engine.ErrInvalidArgument)
		}
	}
	return sec*int64(time.Second) + nsec, nil
}

// systemDF is docker system df: images (with what they share), containers
// (their writable layers), volumes and the build cache.
func (s *server) systemDF(w http.ResponseWriter, r *http.Request) {
	if s.b.DiskUsage == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine does not report disk usage: %w", engine.ErrNotSupported))
		return
	}
	u, err := s.b.DiskUsage.DiskUsage(r.Context())
	if err != nil {
		writeEngineError(w, err)
		return
	}
	images := []image.Summary{}
	for _, img := range u.Images {
		sum := imageSummary(img.ImageSummary)
		sum.SharedSize = img.SharedSize
		images = append(images, sum)
	}
	containers := []container.Summary{}
	for _, c := range u.Containers {
		sum := containerSummary(c.Container)
		sum.SizeRw = c.SizeRw
		containers = append(containers, sum)
	}
	volumes := []volumeJSON{}
	for _, v := range u.Volumes {
		volumes = append(volumes, toVolumeJSON(v, true))
	}
	type cacheJSON struct {
		ID          string
		Parents     []string
		Type        string
		Description string
		InUse       bool
		Shared      bool
		Size        int64
		CreatedAt   time.Time
		LastUsedAt  *time.Time
		UsageCount  int
	}
	cache := []cacheJSON{}
	for _, c := range u.BuildCache {
		used := c.LastUsed
		cache = append(cache, cacheJSON{ID: c.ID, Parents: []string{}, Type: "regular", Description: c.Description, InUse: c.InUse, Size: c.Size, CreatedAt: c.LastUsed, LastUsedAt: &used, UsageCount: 1})
	}
	writeJSON(w, http.StatusOK, map[string]any{"LayersSize": u.LayersSize, "Images": images, "Containers": containers, "Volumes": volumes, "BuildCache": cache})
}

// storageDriver is the storage driver docker info and inspect name.
func (s *server) storageDriver() string {
	if s.info.StorageDriver == nil {
		return "overlayfs"
	}
	return s.info.StorageDriver()
}
