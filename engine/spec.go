package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePortBinding reads docker run -p's "[IP:][HOST:]CONTAINER[/PROTO]"
// (an IPv6 address in brackets): the one reading of it for the app, the
// API and berth watch. A missing host port is 0 (any free one).
func ParsePortBinding(s string) (PortBinding, error) {
	bad := func(why string) (PortBinding, error) {
		return PortBinding{}, fmt.Errorf("port %q: %s: %w", s, why, ErrInvalidArgument)
	}
	spec, proto, _ := strings.Cut(s, "/")
	b := PortBinding{Proto: "tcp"}
	if proto != "" {
		b.Proto = strings.ToLower(proto)
	}
	if b.Proto != "tcp" && b.Proto != "udp" && b.Proto != "sctp" {
		return bad("the protocol is tcp, udp or sctp")
	}
	if strings.HasPrefix(spec, "[") { // [::1]:8080:80
		end := strings.Index(spec, "]")
		if end < 0 || len(spec) <= end+1 || spec[end+1] != ':' {
			return bad("an IPv6 address is written [::1]:HOST:CONTAINER")
		}
		b.HostIP, spec = spec[1:end], spec[end+2:]
	}
	parts := strings.Split(spec, ":")
	if b.HostIP == "" && len(parts) == 3 {
		b.HostIP, parts = parts[0], parts[1:]
	}
	var host, ctr string
	switch len(parts) {
	case 1:
		ctr = parts[0]
	case 2:
		host, ctr = parts[0], parts[1]
	default:
		return bad("write HOST:CONTAINER, e.g. 8080:80")
	}
	var err error
	if b.ContainerPort, err = port(ctr); err != nil || b.ContainerPort == 0 {
		return bad("the container's port is a number from 1 to 65535")
	}
	if host != "" {
		if b.HostPort, err = port(host); err != nil {
			return bad("the host's port is a number from 0 to 65535")
		}
	}
	return b, nil
}

// ParsePort reads an image's exposed port, "80/tcp" or "80".
func ParsePort(s string) (int, string, error) {
	num, proto, _ := strings.Cut(s, "/")
	n, err := port(num)
	if err != nil || n == 0 {
		return 0, "", fmt.Errorf("port %q: not a port number: %w", s, ErrInvalidArgument)
	}
	if proto == "" {
		proto = "tcp"
	}
	return n, strings.ToLower(proto), nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("not a port: %q", s)
	}
	return n, nil
}

// ValidVolumeName checks a volume's name as Docker does: a letter or digit,
// then letters, digits, _, . or -. A name is a folder under the data
// root, so nothing else (a / or ..) may reach the file system.
func ValidVolumeName(name string) error {
	ok := len(name) >= 2
	for i := 0; i < len(name) && ok; i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		ok = alnum || i > 0 && (c == '_' || c == '.' || c == '-')
	}
	if !ok {
		return fmt.Errorf("%q includes invalid characters for a local volume name, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed: %w", name, ErrInvalidArgument)
	}
	return nil
}

// ParseMountSpec reads docker run -v's "SOURCE:TARGET[:OPTIONS]": a
// SOURCE that is an absolute path binds a host folder, anything else
// names a volume; TARGET is absolute; OPTIONS are ro or rw and the SELinux
// and propagation modes Docker takes. It is the one reading of -v for the
// app, the API and berth watch.
func ParseMountSpec(s string) (Mount, error) {
	bad := func(why string) (Mount, error) {
		return Mount{}, fmt.Errorf("invalid volume specification %q: %s: %w", s, why, ErrInvalidArgument)
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return bad("write /host/path:/in/container or name:/in/container, optionally :ro")
	}
	m := Mount{Type: "volume", Source: parts[0], Target: parts[1]}
	if strings.HasPrefix(parts[0], "/") {
		m.Type = "bind"
	} else if err := ValidVolumeName(m.Source); err != nil {
		return Mount{}, fmt.Errorf("%w; to mount a folder of this computer, give its absolute path", err)
	}
	if !strings.HasPrefix(m.Target, "/") {
		return bad("the path in the container must be absolute, e.g. /data")
	}
	if len(parts) == 3 {
		for opt := range strings.SplitSeq(parts[2], ",") {
			switch opt {
			case "ro":
				m.ReadOnly = true
			case "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated",
				"shared", "rshared", "slave", "rslave", "private", "rprivate":
			default:
				return bad("unknown option " + strconv.Quote(opt) + " (ro or rw)")
			}
		}
	}
	return m, nil
}
