package build

import (
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// proxyArgs are predefined: usable in RUN without an ARG, and left out of
// the image's history (they may hold credentials).
var proxyArgs = map[string]bool{
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true,
}

func hostPlatform() string { return "linux/" + goruntime.GOARCH }

func hostVariant() string {
	if goruntime.GOARCH == "arm64" {
		return "v8"
	}
	return ""
}

// predefinedArgs are BuildKit's platform arguments: in scope for FROM,
// and inside a stage once declared with ARG.
func predefinedArgs(target v1.Platform) []kv {
	return []kv{
		{"BUILDPLATFORM", hostPlatform()}, {"BUILDOS", "linux"}, {"BUILDARCH", goruntime.GOARCH}, {"BUILDVARIANT", hostVariant()},
		{"TARGETPLATFORM", platformName(target)}, {"TARGETOS", target.OS}, {"TARGETARCH", target.Architecture}, {"TARGETVARIANT", target.Variant},
	}
}

// platformName is "os/arch", and "/variant" when there is one.
func platformName(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parsePlatform reads "linux/arm64" (or "arm64"); "" is this machine's.
func parsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		return v1.Platform{OS: "linux", Architecture: goruntime.GOARCH, Variant: hostVariant()}, nil
	}
	if !strings.Contains(s, "/") {
		s = "linux/" + s
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS != "linux" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: Berth builds for linux/ARCH (linux/amd64, linux/arm64): %w", s, engine.ErrInvalidArgument)
	}
	if p.Architecture == "arm64" && p.Variant == "" {
		p.Variant = "v8"
	}
	return *p, nil
}

type kv struct{ key, value string }

type kvEnv []kv

func (e kvEnv) Get(k string) (string, bool) { return lookupKV(e, k) }
func (e kvEnv) Keys() []string {
	out := make([]string, len(e))
	for i, p := range e {
		out[i] = p.key
	}
	return out
}

func envGetter(list []kv) kvEnv { return kvEnv(list) }

func lookupKV(list []kv, k string) (string, bool) {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].key == k {
			return list[i].value, true
		}
	}
	return "", false
}

func setKV(list []kv, k, v string) []kv {
	for i := range list {
		if list[i].key == k {
			out := append([]kv(nil), list...)
			out[i].value = v
			return out
		}
	}
	return append(append([]kv(nil), list...), kv{k, v})
}

// setEnv sets KEY=value in an environment list, in place of an old value.
func setEnv(env []string, k, v string) []string {
	out := append([]string(nil), env...)
	for i, e := range out {
		if name, _, _ := strings.Cut(e, "="); name == k {
			out[i] = k + "=" + v
			return out
		}
	}
	return append(out, k+"="+v)
}

func hasKey(env []string, k string) bool {
	for _, e := range env {
		if name, _, _ := strings.Cut(e, "="); name == k {
			return true
		}
	}
	return false
}

func mergeMap(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// cloneConfig deep-copies a config so a step cannot change its parent's.
func cloneConfig(c v1.ConfigFile) v1.ConfigFile {
	data, _ := json.Marshal(c)
	var out v1.ConfigFile
	json.Unmarshal(data, &out)
	return out
}

// parsePorts reads EXPOSE's "80", "80/tcp", "53/udp", "8000-8002".
func parsePorts(specs []string) ([]string, error) {
	var out []string
	for _, s := range specs {
		port, proto, _ := strings.Cut(s, "/")
		if proto == "" {
			proto = "tcp"
		}
		proto = strings.ToLower(proto)
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, fmt.Errorf("invalid EXPOSE %q: the protocol must be tcp, udp or sctp: %w", s, engine.ErrInvalidArgument)
		}
		lo, hi, isRange := strings.Cut(port, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if isRange && err == nil {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 1 || b > 65535 || b < a {
			return nil, fmt.Errorf("invalid EXPOSE %q: a port is a number from 1 to 65535: %w", s, engine.ErrInvalidArgument)
		}
		for p := a; p <= b; p++ {
			out = append(out, fmt.Sprintf("%d/%s", p, proto))
		}
	}
	return out, nil
}

func mapStrings(ports []string) []string {
	out := make([]string, 0, len(ports))
	for _, p := range ports {
		out = append(out, p+":{}")
	}
	sort.Strings(out)
	return out
}

// signalNumber checks STOPSIGNAL's "SIGTERM", "TERM" or "15".
func signalNumber(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 65 {
		return n, nil
	}
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "SIG") {
		up = "SIG" + up
	}
	if s := unix.SignalNum(up); s != 0 {
		return int(s), nil
	}
	return 0, fmt.Errorf("invalid STOPSIGNAL %q: %w", name, engine.ErrInvalidArgument)
}

func normalizeTag(t string) (string, error) {
	ref, err := reference.Parse(t)
	if err != nil {
		return "", fmt.Errorf("invalid tag %q: %w", t, err)
	}
	return reference.Canonical(ref), nil
}
