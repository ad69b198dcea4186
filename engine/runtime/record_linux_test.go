package runtime

import (
	"net"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/engine"
)

func TestCommandLine(t *testing.T) {
	img := engine.ImageConfig{Entrypoint: []string{"/entry.sh"}, Cmd: []string{"serve", "--port=80"}}
	tests := []struct {
		name string
		spec engine.ContainerSpec
		want []string
	}{
		{"image as is", engine.ContainerSpec{}, []string{"/entry.sh", "serve", "--port=80"}},
		{"cmd replaced", engine.ContainerSpec{Cmd: []string{"debug"}}, []string{"/entry.sh", "debug"}},
		{"entrypoint replaced drops image cmd", engine.ContainerSpec{Entrypoint: []string{"sh"}}, []string{"sh"}},
		{"both replaced", engine.ContainerSpec{Entrypoint: []string{"sh"}, Cmd: []string{"-c", "id"}}, []string{"sh", "-c", "id"}},
		{"entrypoint cleared", engine.ContainerSpec{Entrypoint: []string{}, Cmd: []string{"ls"}}, []string{"ls"}},
	}
	for _, tt := range tests {
		if got := commandLine(tt.spec, img); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "LANG=C"}, []string{"LANG=C.UTF-8", "APP=1", "UNSET"})
	want := []string{"PATH=/bin", "LANG=C.UTF-8", "APP=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeEnv = %q, want %q", got, want)
	}
}

func TestSignalNumber(t *testing.T) {
	for in, want := range map[string]int{"": 9, "SIGTERM": 15, "term": 15, "HUP": 1, "2": 2, "SIGKILL": 9} {
		got, err := signalNumber(in)
		if err != nil || int(got) != want {
			t.Errorf("signalNumber(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := signalNumber("SIGNOPE"); err == nil {
		t.Error("signalNumber accepted SIGNOPE")
	}
}

func TestLeaseStaysInSubnet(t *testing.T) {
	for _, bip := range []string{"10.88.0.1/16", "10.91.7.1/24", "172.30.4.129/25"} {
		gw, subnet, _ := net.ParseCIDR(bip)
		n := &network{gateway: gw, subnet: subnet, used: map[string]bool{gw.String(): true}}
		seen := map[string]bool{}
		for i := 0; i < 50; i++ {
			ip, err := n.lease("")
			if err != nil {
				t.Fatal(err)
			}
			if !subnet.Contains(ip) || ip.Equal(gw) || seen[ip.String()] || ip.Equal(subnet.IP) {
				t.Fatalf("%s: lease %d gave %s", bip, i, ip)
			}
			seen[ip.String()] = true
		}
		n.release("")
	}
	// A container asking for its old address gets it back when free.
	gw, subnet, _ := net.ParseCIDR("10.88.0.1/16")
	n := &network{gateway: gw, subnet: subnet, used: map[string]bool{gw.String(): true}}
	if ip, _ := n.lease("10.88.3.9"); ip.String() != "10.88.3.9" {
		t.Errorf("lease of a free wanted address = %s", ip)
	}
}
