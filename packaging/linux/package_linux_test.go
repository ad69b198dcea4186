package linux

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine/enginetest"
)

func TestDebianPackageInstallsRunsAndPurges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installing a package needs root (CI is root)")
	}
	for _, tool := range []string{"dpkg-deb", "apt-get", "desktop-file-validate"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (packaging/dev/setup.sh test installs desktop-file-utils)", tool)
		}
	}
	if exec.Command("dpkg-query", "-W", "-f=${Status}", "berth").Run() == nil {
		t.Skip("a berth package is installed on this machine already: the test would replace and purge it")
	}
	p := enginetest.OrdinaryUser(t)
	out := t.TempDir()
	run(t, "bash", "build.sh", out)
	deb, tarball := glob(t, out, "berth_*_amd64.deb"), glob(t, out, "berth-*-linux-amd64.tar.gz")
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(deb), "berth_"), "_amd64.deb")

	// The tarball holds the same programs, the desktop entry and how to
	// install it.
	names := tarNames(t, tarball)
	for _, want := range []string{"bin/berth", "bin/berthd", "share/applications/dev.berth.app.desktop", "share/icons/hicolor/256x256/apps/dev.berth.app.png", "INSTALL"} {
		if !slices.Contains(names, "berth-"+version+"-linux-amd64/"+want) {
			t.Errorf("the tarball has no %s: %v", want, names)
		}
	}

	t.Cleanup(func() { exec.Command("apt-get", "purge", "-y", "-qq", "berth").Run() })
	run(t, "apt-get", "install", "-y", "-qq", "--no-install-recommends", deb)
	files := strings.Fields(run(t, "dpkg-query", "-L", "berth"))
	for _, want := range []string{"/usr/bin/berth", "/usr/bin/berthd", "/usr/share/applications/dev.berth.app.desktop", "/usr/share/icons/hicolor/256x256/apps/dev.berth.app.png", "/usr/lib/systemd/system/berthd.service"} {
		if !slices.Contains(files, want) {
			t.Errorf("the package did not install %s", want)
		}
	}
	if got := run(t, "/usr/bin/berth", "--version"); got != "Berth "+version+"\n" {
		t.Errorf("berth --version: %q", got)
	}
	if got := run(t, "/usr/bin/berthd", "--version"); got != "Berth Engine "+version+"\n" {
		t.Errorf("berthd --version: %q", got)
	}
	run(t, "desktop-file-validate", "/usr/share/applications/dev.berth.app.desktop")
	if _, err := user.LookupGroup("berth"); err != nil {
		t.Errorf("the package made no berth group for the system engine's socket: %v", err)
	}
	// berthd's AppArmor profile is installed only where AppArmor restricts
	// user namespaces (Ubuntu 23.10 and later); purge takes it.
	const profile = "/etc/apparmor.d/berthd"
	if _, err := os.Stat("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"); err != nil {
		if _, err := os.Stat(profile); err == nil {
			t.Errorf("%s was installed where AppArmor restricts no user namespace", profile)
		}
		cmd := exec.Command("/var/lib/dpkg/info/berth.postinst", "configure")
		cmd.Env = append(os.Environ(), "BERTH_APPARMOR_USERNS=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("postinst configure: %v %s", err, out)
		}
	}
	if got, want := readFile(t, profile), readFile(t, "/usr/share/berth/apparmor-berthd"); got != want || !strings.Contains(got, "profile berthd /usr/bin/berthd") || !strings.Contains(got, "userns,") {
		t.Errorf("%s:\n%s\nwant the package's profile letting /usr/bin/berthd make user namespaces", profile, got)
	}

	// As the person: the installed berth starts the rootless engine that
	// is installed beside it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := p.Command(ctx, "/usr/bin/berth", "engine", "start")
	stdout, _ := start.StdoutPipe()
	var log strings.Builder
	start.Stderr = &log
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "export DOCKER_HOST=") {
				ready <- true
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the installed berth engine start ended:\n%s", log.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the installed engine never answered:\n%s", log.String())
	}
	if out, err := p.Command(ctx, "/usr/bin/berth", "engine", "stop").CombinedOutput(); err != nil || !strings.Contains(string(out), "stopped") {
		t.Errorf("berth engine stop: %v %s", err, out)
	}
	start.Wait()
	userData := filepath.Join(p.Data, "berth")
	if _, err := os.Stat(filepath.Join(userData, "images")); err != nil {
		t.Fatalf("the person's engine kept no data in %s: %v", userData, err)
	}

	// Purge takes what the package installed and made, and leaves the
	// person's data.
	run(t, "apt-get", "purge", "-y", "-qq", "berth")
	for _, f := range files {
		if fi, err := os.Lstat(f); err == nil && !fi.IsDir() {
			t.Errorf("purge left %s", f)
		}
	}
	for _, dir := range []string{"/usr/share/doc/berth", "/usr/share/berth", profile} {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("purge left %s", dir)
		}
	}
	if _, err := user.LookupGroup("berth"); err == nil {
		t.Error("purge left the berth group")
	}
	if st, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "berth").Output(); err == nil && !strings.Contains(string(st), "not-installed") {
		t.Errorf("dpkg still lists berth: %s", st)
	}
	if _, err := os.Stat(filepath.Join(userData, "images")); err != nil {
		t.Errorf("purge took the person's data: %v", err)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func glob(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) != 1 {
		t.Fatalf("build.sh made %v for %s", m, pattern)
	}
	return m[0]
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.TrimSuffix(h.Name, "/"))
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Error(err)
	}
	return string(b)
}
