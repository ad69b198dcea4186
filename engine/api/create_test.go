package api

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Every create option is applied or refused with what is wrong: none is
// dropped. Values that cannot work are a 400 at create, not a failure at
// start.
func TestCreateOptionsAppliedOrRefused(t *testing.T) {
	pidsLimit := int64(50)
	tr := true
	base := func(hc container.HostConfig) container.CreateRequest {
		return container.CreateRequest{Config: &container.Config{Image: "busybox"}, HostConfig: &hc}
	}
	for _, tc := range []struct {
		name  string
		req   container.CreateRequest
		want  error  // nil: accepted
		text  string // in the error
		check func(engine.ContainerSpec) bool
	}{
		{"privileged and caps", base(container.HostConfig{Privileged: true, CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"ALL"}}), nil, "",
			func(s engine.ContainerSpec) bool {
				return s.Security.Privileged && s.Security.CapAdd[0] == "NET_ADMIN" && s.Security.CapDrop[0] == "ALL"
			}},
		{"read-only, pids, ulimit", base(container.HostConfig{ReadonlyRootfs: true, Resources: container.Resources{PidsLimit: &pidsLimit, Ulimits: []*container.Ulimit{{Name: "nofile", Soft: 10, Hard: 20}}}}), nil, "",
			func(s engine.ContainerSpec) bool {
				return s.Security.ReadOnly && s.Security.PidsLimit == 50 && s.Security.Ulimits[0].Hard == 20
			}},
		{"seccomp unconfined", base(container.HostConfig{SecurityOpt: []string{"seccomp=unconfined", "no-new-privileges"}}), nil, "",
			func(s engine.ContainerSpec) bool { return s.Security.Seccomp == "unconfined" && s.NoNewPrivileges }},
		{"network none", base(container.HostConfig{NetworkMode: "none"}), nil, "", func(s engine.ContainerSpec) bool { return s.Network == "none" }},
		{"network none with ports", base(container.HostConfig{NetworkMode: "none", PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "8080"}}}}), engine.ErrInvalidArgument, "conflicting", nil},
		{"a network Berth has not", base(container.HostConfig{NetworkMode: "container:web"}), engine.ErrNotSupported, "network", nil},
		{"apparmor", base(container.HostConfig{SecurityOpt: []string{"apparmor=docker-default"}}), engine.ErrNotSupported, "AppArmor", nil},
		{"an unknown security option", base(container.HostConfig{SecurityOpt: []string{"bogus"}}), engine.ErrInvalidArgument, "bogus", nil},
		{"pid host", base(container.HostConfig{PidMode: "host"}), engine.ErrNotSupported, "--pid host", nil},
		{"init", base(container.HostConfig{Init: &tr}), engine.ErrNotSupported, "--init", nil},
		{"tmpfs", base(container.HostConfig{Tmpfs: map[string]string{"/run": ""}}), engine.ErrNotSupported, "--tmpfs", nil},
		{"log driver", base(container.HostConfig{LogConfig: container.LogConfig{Type: "syslog"}}), engine.ErrNotSupported, "--log-driver", nil},
		{"cpu shares", base(container.HostConfig{Resources: container.Resources{CPUShares: 512}}), engine.ErrNotSupported, "--cpu-shares", nil},
		{"NanoCpus overflow", base(container.HostConfig{Resources: container.Resources{NanoCPUs: math.MaxInt64}}), engine.ErrInvalidArgument, "range of CPUs", nil},
		{"NanoCpus negative", base(container.HostConfig{Resources: container.Resources{NanoCPUs: -5}}), engine.ErrInvalidArgument, "range of CPUs", nil},
		{"Memory -1", base(container.HostConfig{Resources: container.Resources{Memory: -1}}), engine.ErrInvalidArgument, "memory", nil},
		{"restart sometimes", base(container.HostConfig{RestartPolicy: container.RestartPolicy{Name: "sometimes"}}), engine.ErrInvalidArgument, "restart policy", nil},
		{"host port 99999", base(container.HostConfig{PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "99999"}}}}), engine.ErrInvalidArgument, "host port", nil},
		{"host port -1", base(container.HostConfig{PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "-1"}}}}), engine.ErrInvalidArgument, "host port", nil},
		{"a volume name that climbs", base(container.HostConfig{Binds: []string{"../../../../tmp/x:/x"}}), engine.ErrInvalidArgument, "volume name", nil},
		{"defaults a client sends", base(container.HostConfig{NetworkMode: "default", IpcMode: "private", CgroupnsMode: "private", LogConfig: container.LogConfig{Type: "json-file"}}), nil, "", nil},
	} {
		spec, err := specFrom("", tc.req)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text)):
			t.Errorf("%s: %v, want %v mentioning %q", tc.name, err, tc.want, tc.text)
		case tc.check != nil && !tc.check(spec):
			t.Errorf("%s: not applied: %+v", tc.name, spec)
		}
	}
}
