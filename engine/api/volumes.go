package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
)

// volumeJSON is a volume as dockerd's API writes it.
type volumeJSON struct {
	Name       string
	Driver     string
	Mountpoint string
	CreatedAt  string
	Labels     map[string]string
	Scope      string
	Options    map[string]string
	UsageData  *volumeUsage `json:",omitempty"`
}

type volumeUsage struct{ Size, RefCount int64 }

// anonymousLabel marks anonymous volumes, as dockerd marks them.
const anonymousLabel = "com.docker.volume.anonymous"

func toVolumeJSON(v engine.Volume, usage bool) volumeJSON {
	labels := maps.Clone(nonNilMap(v.Labels))
	if v.Anonymous {
		labels[anonymousLabel] = ""
	}
	out := volumeJSON{Name: v.Name, Driver: "local", Mountpoint: v.Mountpoint, CreatedAt: v.Created.Format(time.RFC3339),
		Labels: labels, Scope: "local", Options: nonNilMap(v.Options)}
	if usage {
		out.UsageData = &volumeUsage{Size: v.Size, RefCount: int64(v.Containers)}
	}
	return out
}

// volumeRoutes serves /volumes…; false when p is not one of them.
func (s *server) volumeRoutes(w http.ResponseWriter, r *http.Request, p string) bool {
	if p != "/volumes" && !strings.HasPrefix(p, "/volumes/") {
		return false
	}
	if s.b.Volumes == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine keeps no volumes: %w", engine.ErrNotSupported))
		return true
	}
	m := r.Method
	switch rest := strings.TrimPrefix(p, "/volumes"); {
	case rest == "" && m == http.MethodGet:
		s.volumeList(w, r)
	case rest == "/create" && m == http.MethodPost:
		s.volumeCreate(w, r)
	case rest == "/prune" && m == http.MethodPost:
		s.volumePrune(w, r)
	case strings.Count(rest, "/") == 1 && m == http.MethodGet:
		v, err := s.b.Volumes.InspectVolume(r.Context(), rest[1:])
		if err != nil {
			writeEngineError(w, err)
			return true
		}
		writeJSON(w, http.StatusOK, toVolumeJSON(v, false))
	case strings.Count(rest, "/") == 1 && m == http.MethodDelete:
		s.noContent(w, s.b.Volumes.RemoveVolume(r.Context(), rest[1:], boolParam(r, "force")))
	default:
		writeError(w, http.StatusNotFound, errors.New("page not found"))
	}
	return true
}

func (s *server) volumeList(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	vols, err := s.b.Volumes.ListVolumes(r.Context(), false)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	out := []volumeJSON{}
	for _, v := range vols {
		if matchVolume(f, v) {
			out = append(out, toVolumeJSON(v, false))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Volumes": out, "Warnings": []string{}})
}

// matchVolume: docker volume ls's filters (name, label, dangling,
// driver), each ANDed with the others.
func matchVolume(f map[string][]string, v engine.Volume) bool {
	for _, name := range f["name"] {
		if !strings.Contains(v.Name, name) {
			return false
		}
	}
	for _, d := range f["dangling"] {
		if dangling, _ := strconv.ParseBool(d); dangling != (v.Containers == 0) {
			return false
		}
	}
	for _, d := range f["driver"] {
		if d != "local" {
			return false
		}
	}
	return engine.MatchLabels(f["label"], v.Labels)
}

func (s *server) volumeCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name       string
		Driver     string
		DriverOpts map[string]string
		Labels     map[string]string
	}
	if !decodeJSON(w, r, &req, "volume create request") {
		return
	}
	if req.Driver != "" && req.Driver != "local" {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("volume driver %q: Berth has the local driver only: %w", req.Driver, engine.ErrNotSupported))
		return
	}
	withOptions, canOptions := s.b.Volumes.(volumeOptionsCreator)
	if len(req.DriverOpts) > 0 && !canOptions {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("volume driver options (%v): this engine's volumes take none: %w", req.DriverOpts, engine.ErrNotSupported))
		return
	}
	if req.Name != "" {
		if err := engine.ValidVolumeName(req.Name); err != nil {
			writeEngineError(w, err)
			return
		}
	}
	var v engine.Volume
	var err error
	if len(req.DriverOpts) > 0 {
		v, err = withOptions.CreateVolumeWithOptions(r.Context(), req.Name, req.Labels, req.DriverOpts)
	} else {
		v, err = s.b.Volumes.CreateVolume(r.Context(), req.Name, req.Labels)
	}
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, toVolumeJSON(v, false))
}

// volumeOptionsCreator makes volumes with the local driver's options
// (docker volume create --opt type=tmpfs …).
type volumeOptionsCreator interface {
	CreateVolumeWithOptions(ctx context.Context, name string, labels, opts map[string]string) (engine.Volume, error)
}

func (s *server) volumePrune(w http.ResponseWriter, r *http.Request) {
	f, err := filters(r)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	all := false
	for _, v := range f["all"] {
		all, _ = strconv.ParseBool(v)
	}
	removed, reclaimed, err := s.b.Volumes.PruneVolumes(r.Context(), all, f["label"])
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"VolumesDeleted": nonNil(removed), "SpaceReclaimed": reclaimed})
}
