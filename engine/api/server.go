package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/registry"
)

const (
	// APIVersion is the newest Docker Engine API version served; clients
	// negotiate down to it from the _ping header.
	APIVersion = "1.51"
	// MinAPIVersion is the oldest accepted.
	MinAPIVersion = "1.24"
)

// Backend is the engine the API serves.
type Backend struct {
	Images   engine.Images
	Registry engine.Registry
	Archives engine.Archives
	Events   engine.Events
	// The container roles; nil serves no /containers endpoints.
	Containers        engine.Containers
	ContainerViews    engine.ContainerViews
	ContainerControls engine.ContainerControls
	ContainerIO       engine.ContainerIO
	ContainerFiles    engine.ContainerFiles
	ContainerInsight  engine.ContainerInsight
	// Builder serves /build; BuildContextDir makes a directory for an
	// uploaded context (the caller removes it).
	Builder         engine.Builder
	BuildContextDir func() (string, error)
	// BuildKit serves BuildKit's API (/session and /grpc), which the
	// docker CLI's buildx plugin builds through; nil: classic builds only.
	BuildKit BuildKit
	// Volumes serves /volumes; nil answers 501.
	Volumes engine.Volumes
	// Networks are the user-defined networks; nil: only the predefined.
	Networks engine.Networks
	// DiskUsage serves /system/df; nil answers 501.
	DiskUsage engine.DiskUsager
	// Committer serves /commit; nil answers 501.
	Committer engine.Committer
	// Importer serves docker import (images/create?fromSrc); nil: 501.
	Importer engine.Importer
}

// BuildKit is BuildKit's API: the client's session, and its gRPC
// services, each over a connection the client upgrades to HTTP/2.
type BuildKit interface {
	ServeSession(http.ResponseWriter, *http.Request)
	ServeGRPC(http.ResponseWriter, *http.Request)
}

// Info is static facts about the daemon for /version and /info.
type Info struct {
	Version            string // Berth's version
	DataRoot           string
	InsecureRegistries []string
	// SecurityOptions are docker info's ("name=seccomp,profile=builtin",
	// "name=rootless").
	SecurityOptions []string
	// Warnings are what docker info warns of (what the engine does without).
	Warnings []string
	// Bridge is the network containers attach to ("berth0",
	// "10.88.0.1/16"): docker network ls's bridge.
	BridgeName, BridgeCIDR string
	// StorageDriver names how layers are mounted now (docker info's
	// Storage Driver); nil: overlayfs.
	StorageDriver func() string
}

type server struct {
	b       Backend
	info    Info
	started time.Time
	execs   execs
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

// NewHandler returns the Docker Engine API over b.
func NewHandler(b Backend, info Info) http.Handler {
	s := &server{b: b, info: info, started: time.Now()}
	return http.HandlerFunc(s.route)
}

func (s *server) route(w http.ResponseWriter, r *http.Request) {
	defer recoverHandler(w, r)
	p := r.URL.Path
	if loc := versionPrefix.FindStringIndex(p); loc != nil {
		if v := p[2 : loc[1]-1]; versionLess(v, MinAPIVersion) {
			writeError(w, http.StatusBadRequest, fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion))
			return
		} else if versionLess(APIVersion, v) {
			writeError(w, http.StatusBadRequest, fmt.Errorf("client version %s is too new. Maximum supported API version is %s", v, APIVersion))
			return
		}
		p = p[loc[1]-1:]
	}
	w.Header().Set("Api-Version", APIVersion)
	w.Header().Set("Server", "Berth/"+s.info.Version+" ("+runtime.GOOS+")")
	w.Header().Set("Docker-Experimental", "false")
	w.Header().Set("Ostype", "linux")

	m := r.Method
	switch {
	case p == "/_ping" && (m == http.MethodGet || m == http.MethodHead):
		s.ping(w, r)
	case p == "/version" && m == http.MethodGet:
		s.version(w, r)
	case p == "/info" && m == http.MethodGet:
		s.systemInfo(w, r)
	case p == "/events" && m == http.MethodGet:
		s.events(w, r)
	case p == "/commit" && m == http.MethodPost:
		s.commit(w, r)
	case p == "/system/df" && m == http.MethodGet:
		s.systemDF(w, r)
	case p == "/auth" && m == http.MethodPost:
		s.login(w, r)
	case isSwarmPath(p):
		// As dockerd outside a swarm: clients read 503 as "not a member".
		writeError(w, http.StatusServiceUnavailable, errors.New(`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`))
	case p == "/images/json" && m == http.MethodGet:
		s.imageList(w, r)
	case p == "/images/create" && m == http.MethodPost:
		s.imageCreate(w, r)
	case p == "/images/search" && m == http.MethodGet:
		s.imageSearch(w, r)
	case p == "/images/prune" && m == http.MethodPost:
		s.imagePrune(w, r)
	case p == "/images/get" && m == http.MethodGet:
		s.imageSave(w, r, r.URL.Query()["names"])
	case p == "/images/load" && m == http.MethodPost:
		s.imageLoad(w, r)
	case strings.HasPrefix(p, "/distribution/") && strings.HasSuffix(p, "/json") && m == http.MethodGet:
		s.distribution(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/distribution/"), "/json"))
	case strings.HasPrefix(p, "/distribution/") && strings.HasSuffix(p, "/tags") && m == http.MethodGet:
		s.registryTags(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/distribution/"), "/tags"))
	case p == "/build" && m == http.MethodPost:
		s.buildImage(w, r)
	case p == "/build/prune" && m == http.MethodPost:
		s.buildPrune(w, r)
	case (p == "/session" || p == "/grpc") && m == http.MethodPost:
		if s.b.BuildKit == nil {
			writeError(w, http.StatusNotFound, errors.New("page not found"))
		} else if p == "/session" {
			s.b.BuildKit.ServeSession(w, r)
		} else {
			s.b.BuildKit.ServeGRPC(w, r)
		}
	case strings.HasPrefix(p, "/images/"):
		s.imageByName(w, r, strings.TrimPrefix(p, "/images/"))
	case s.containerRoutes(w, r, p):
	case s.volumeRoutes(w, r, p):
	case s.networkRoutes(w, r, p):
	default:
		writeError(w, http.StatusNotFound, errors.New("page not found"))
	}
}

// isSwarmPath: the swarm mode endpoints, which Berth (one engine, no
// swarm) answers as a dockerd that joined none.
func isSwarmPath(p string) bool {
	for _, prefix := range []string{"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// login is POST /auth, docker login's check: the engine asks the
// registry and keeps nothing (the CLI stores the credentials).
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username, Password, Auth, ServerAddress, IdentityToken, RegistryToken string
	}
	if !decodeJSON(w, r, &req, "login request") {
		return
	}
	auth := &engine.AuthConfig{Username: req.Username, Password: req.Password, Auth: req.Auth, ServerAddress: req.ServerAddress, IdentityToken: req.IdentityToken, RegistryToken: req.RegistryToken}
	if err := s.b.Registry.Login(r.Context(), auth); err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"Status": "Login Succeeded", "IdentityToken": ""})
}

// MaxJSONBody bounds a request's JSON body (a container's create request
// with its environment and labels, an exec): 8 MiB, above it 413.
const MaxJSONBody = 8 << 20

// decodeJSON reads a request's JSON body into v, answering 413 past
// MaxJSONBody and 400 for what is not JSON; false when it answered.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, what string) bool {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxJSONBody)).Decode(v)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("the %s is larger than Berth accepts (%d MiB)", what, MaxJSONBody>>20))
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid %s: %w", what, err))
		return false
	}
	return true
}

// versionLess compares API versions ("1.24" < "1.51").
func versionLess(a, b string) bool {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	ai, _ := strconv.Atoi(am)
	bi, _ := strconv.Atoi(bm)
	if ai != bi {
		return ai < bi
	}
	aj, _ := strconv.Atoi(an)
	bj, _ := strconv.Atoi(bn)
	return aj < bj
}

// recoverHandler answers a request whose handler panicked (a bug) with a
// 500 that says so, and logs the stack, instead of dropping the
// connection with no word; the daemon serves on.
func recoverHandler(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil || v == http.ErrAbortHandler {
		if v != nil {
			panic(v)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "berthd: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
	// A streaming answer may have sent its headers already: the error
	// then arrives as the stream's last message, which clients show.
	msg := fmt.Sprintf("berthd failed on this request (a bug, please report it): %v", v)
	writeJSON(w, http.StatusInternalServerError, map[string]any{"message": msg, "error": msg, "errorDetail": map[string]string{"message": msg}})
}

// imageByName routes /images/{name}/{action}; names contain slashes and
// colons ("localhost:5000/team/app:v1"), so the action is the last part.
func (s *server) imageByName(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method == http.MethodDelete {
		s.imageDelete(w, r, rest)
		return
	}
	i := strings.LastIndex(rest, "/")
	if i <= 0 {
		writeError(w, http.StatusNotFound, errors.New("page not found"))
		return
	}
	name, action := rest[:i], rest[i+1:]
	switch {
	case action == "json" && r.Method == http.MethodGet:
		s.imageInspect(w, r, name)
	case action == "history" && r.Method == http.MethodGet:
		s.imageHistory(w, r, name)
	case action == "tag" && r.Method == http.MethodPost:
		s.imageTag(w, r, name)
	case action == "push" && r.Method == http.MethodPost:
		s.imagePush(w, r, name)
	case action == "get" && r.Method == http.MethodGet:
		s.imageSave(w, r, []string{name})
	default:
		writeError(w, http.StatusNotFound, errors.New("page not found"))
	}
}

func (s *server) ping(w http.ResponseWriter, r *http.Request) {
	builder := "1" // the classic builder
	if s.b.BuildKit != nil {
		builder = "2" // BuildKit's API: buildx builds through it
	}
	w.Header().Set("Builder-Version", builder)
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", "0")
		return
	}
	w.Write([]byte("OK"))
}

// statusOf maps engine sentinels onto the HTTP codes dockerd uses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, engine.ErrInvalidReference), errors.Is(err, engine.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, engine.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, engine.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, engine.ErrNotSupported):
		return http.StatusNotImplemented
	case errors.Is(err, engine.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, engine.ErrForbidden):
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"message": err.Error()})
}

func writeEngineError(w http.ResponseWriter, err error) {
	writeError(w, statusOf(err), err)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// authFrom decodes the X-Registry-Auth header the docker CLI sends
// (base64url JSON). An empty or "{}" header means: use the daemon's keychain.
func authFrom(r *http.Request) *engine.AuthConfig {
	h := r.Header.Get(registry.AuthHeader)
	if h == "" {
		return nil
	}
	raw, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(h); err != nil {
			return nil
		}
	}
	var a registry.AuthConfig
	if json.Unmarshal(raw, &a) != nil {
		return nil
	}
	if a == (registry.AuthConfig{}) {
		return nil
	}
	return &engine.AuthConfig{Username: a.Username, Password: a.Password, Auth: a.Auth, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken, ServerAddress: a.ServerAddress}
}

// anyOrNone is one filter key's test: no values given, or one of them
// matches (a key's values OR, keys AND, as dockerd's filters).
func anyOrNone(values []string, match func(string) bool) bool {
	return len(values) == 0 || slices.ContainsFunc(values, match)
}

// filters parses the "filters" query parameter in both of its wire forms:
// {"key":["v1","v2"]} and the older {"key":{"v1":true}}.
func filters(r *http.Request) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(raw), &out); err == nil {
		return out, checkFilters(out)
	}
	var old map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &old); err != nil {
		return nil, fmt.Errorf("invalid filters %q: %w", raw, engine.ErrInvalidArgument)
	}
	out = map[string][]string{}
	for k, vs := range old {
		for v, on := range vs {
			if on {
				out[k] = append(out[k], v)
			}
		}
	}
	return out, checkFilters(out)
}

// checkFilters refuses values dockerd refuses: a boolean filter that is
// not one.
func checkFilters(f map[string][]string) error {
	for _, key := range []string{"dangling"} {
		for _, v := range f[key] {
			switch strings.ToLower(v) {
			case "true", "false", "1", "0":
			default:
				return fmt.Errorf("invalid filter '%s=%s': true or false: %w", key, v, engine.ErrInvalidArgument)
			}
		}
	}
	return nil
}

// boolParam reads a boolean query parameter as Go and Python clients
// write it ("1", "true", "True"); absent or unreadable is false.
func boolParam(r *http.Request, name string) bool { return boolParamOr(r, name, false) }

// boolParamOr is boolParam with the value an absent parameter has.
func boolParamOr(r *http.Request, name string, absent bool) bool {
	v, err := strconv.ParseBool(r.URL.Query().Get(name))
	if err != nil {
		return absent
	}
	return v
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func randRead(b []byte) { rand.Read(b) }
