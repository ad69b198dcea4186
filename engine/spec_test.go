package engine

import (
	"errors"
	"testing"
)

func TestParsePortBinding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PortBinding
		ok   bool
	}{
		{"8080:80", PortBinding{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, true},
		{"80", PortBinding{ContainerPort: 80, Proto: "tcp"}, true},
		{"127.0.0.1:8080:80", PortBinding{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Proto: "tcp"}, true},
		{"127.0.0.1::80", PortBinding{HostIP: "127.0.0.1", ContainerPort: 80, Proto: "tcp"}, true},
		{"[::1]:8080:80/udp", PortBinding{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Proto: "udp"}, true},
		{"53:53/UDP", PortBinding{HostPort: 53, ContainerPort: 53, Proto: "udp"}, true},
		{"80:http", PortBinding{}, false},
		{"99999:80", PortBinding{}, false},
		{"-1:80", PortBinding{}, false},
		{"8080:0", PortBinding{}, false},
		{"80/bogus", PortBinding{}, false},
		{"a:b:c:d", PortBinding{}, false},
	} {
		got, err := ParsePortBinding(tc.in)
		if tc.ok && (err != nil || got != tc.want) || !tc.ok && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
}

func TestParseMountSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mount
		ok   bool
	}{
		{"/srv/site:/www", Mount{Type: "bind", Source: "/srv/site", Target: "/www"}, true},
		{"data:/var/lib/data:ro", Mount{Type: "volume", Source: "data", Target: "/var/lib/data", ReadOnly: true}, true},
		{"/x:/y:rw,z", Mount{Type: "bind", Source: "/x", Target: "/y"}, true},
		{"data", Mount{}, false},
		{"data:relative", Mount{}, false},
		{"/x:/y:bogus", Mount{}, false},
		{":/y", Mount{}, false},
		{"../../../../tmp/x:/x", Mount{}, false},
		{"rel/path:/x", Mount{}, false},
		{"..:/x", Mount{}, false},
		{"a:/x", Mount{}, false},
		{"my-vol_1.0:/x", Mount{Type: "volume", Source: "my-vol_1.0", Target: "/x"}, true},
	} {
		got, err := ParseMountSpec(tc.in)
		if tc.ok && (err != nil || got != tc.want) || !tc.ok && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
}
