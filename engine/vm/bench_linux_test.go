package vm

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/client"
	"github.com/berth-dev/berth/engine/enginetest"
)

// BenchmarkVMBoot measures QEMU start to engine ready (the engine answers
// /_ping over its TLS channel) on a VM whose data disk is already
// formatted, and QEMU's resident memory and CPU once the VM has idled.
//
//	go test -run '^$' -bench VMBoot -benchtime 5x ./engine/vm
func BenchmarkVMBoot(b *testing.B) {
	img := buildImage(b)
	// One shared folder, as the app shares the home folder.
	q := NewQEMU(QEMUConfig{Dir: b.TempDir(), Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"), DiskGB: 32, Shares: []string{b.TempDir()}})
	ctx := context.Background()
	firstStart := time.Now()
	if err := q.Start(ctx); err != nil { // formats the data disk
		b.Fatalf("%v\n%s", err, q.Status().ConsoleTail)
	}
	firstBoot := time.Since(firstStart)
	q.Stop(ctx)
	b.ResetTimer()
	var total time.Duration
	var idleRSS int
	var idleCPU float64
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := q.Start(ctx); err != nil {
			b.Fatalf("%v\n%s", err, q.Status().ConsoleTail)
		}
		total += time.Since(start)
		b.StopTimer()
		if i == b.N-1 {
			b.Logf("QEMU started %s; the console:\n%s", start.Format("15:04:05.000"), q.consoleTail(15))
			// Idle, on a boot after the first (whose file system still
			// initialises its inode tables in the background for a while).
			time.Sleep(5 * time.Second)
			idleRSS = rssKB(b, q)
			// The CPU an idle VM takes (a laptop's battery): QEMU's user
			// and system time over 10 s, as a percentage of one core.
			before := cpuTicks(b, q)
			time.Sleep(10 * time.Second)
			idleCPU = float64(cpuTicks(b, q)-before) / 100 / 10 * 100 // USER_HZ is 100
		}
		q.Stop(ctx)
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-ready")
	b.ReportMetric(firstBoot.Seconds(), "s-first-boot")
	b.ReportMetric(float64(idleRSS)/1024, "MB-idle-rss")
	b.ReportMetric(idleCPU, "pct-idle-cpu")
}

// cpuTicks is QEMU's user plus system time, in clock ticks.
func cpuTicks(b *testing.B, q *QEMU) int {
	q.mu.Lock()
	pid := q.proc.Pid
	q.mu.Unlock()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th of the whole line.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime
}

func rssKB(b *testing.B, q *QEMU) int {
	q.mu.Lock()
	pid := q.proc.Pid
	q.mu.Unlock()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkVMPortForward downloads a 256 MiB file from a container in the
// VM through a published port on the host's 127.0.0.1.
//
//	go test -run '^$' -bench VMPortForward -benchtime 3x ./engine/vm
func BenchmarkVMPortForward(b *testing.B) {
	img := buildImage(b)
	reg := enginetest.StartRegistry(b)
	reg.Push(b, enginetest.Busybox(b), "library/busybox:1.36")
	_, regPort, _ := strings.Cut(reg.Host, ":")
	guestReg := "10.0.2.2:" + regPort
	q := NewQEMU(QEMUConfig{Dir: b.TempDir(), Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"),
		DiskGB: 8, MemoryMB: 1024, EngineFlags: []string{"--insecure-registry=" + guestReg}})
	ctx := context.Background()
	h := &Helper{Driver: q, Socket: filepath.Join(b.TempDir(), "engine.sock")}
	if err := h.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer h.Stop(ctx)
	c, err := client.New("unix://" + h.Socket)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Pull(ctx, guestReg+"/library/busybox:1.36", nil, nil); err != nil {
		b.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		b.Fatal(err)
	}
	const size = 256 << 20
	cc := c.Containers()
	id, err := cc.Create(ctx, engine.ContainerSpec{Image: guestReg + "/library/busybox:1.36",
		Cmd:   []string{"sh", "-c", fmt.Sprintf("mkdir /www && dd if=/dev/zero of=/www/big bs=1M count=%d 2>/dev/null && httpd -f -p 8080 -h /www", size>>20)},
		Ports: []engine.PortBinding{{HostPort: port, ContainerPort: 8080}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		b.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/big", port)
	for i := 0; ; i++ {
		resp, err := http.Head(url)
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		if i > 600 {
			b.Fatalf("the file is not served: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != size {
			b.Fatalf("got %d bytes: %v", n, err)
		}
	}
}

// BenchmarkVMSharedFolder reads a 64 MiB file of the host's through a
// bind mount of a shared folder (9p) in a container in the VM. Each
// round runs a container that cats the file and one that does nothing;
// the difference is the read.
//
//	go test -run '^$' -bench VMSharedFolder -benchtime 3x ./engine/vm
func BenchmarkVMSharedFolder(b *testing.B) {
	img := buildImage(b)
	reg := enginetest.StartRegistry(b)
	reg.Push(b, enginetest.Busybox(b), "library/busybox:1.36")
	_, regPort, _ := strings.Cut(reg.Host, ":")
	guestReg := "10.0.2.2:" + regPort
	shared := b.TempDir()
	const size = 64 << 20
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(shared, "big"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	q := NewQEMU(QEMUConfig{Dir: b.TempDir(), Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"),
		DiskGB: 8, EngineFlags: []string{"--insecure-registry=" + guestReg}, Shares: []string{shared}})
	ctx := context.Background()
	h := &Helper{Driver: q, Socket: filepath.Join(b.TempDir(), "engine.sock")}
	if err := h.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer h.Stop(ctx)
	c, err := client.New("unix://" + h.Socket)
	if err != nil {
		b.Fatal(err)
	}
	ref := guestReg + "/library/busybox:1.36"
	if _, err := c.Pull(ctx, ref, nil, nil); err != nil {
		b.Fatal(err)
	}
	cc := c.Containers()
	run := func(cmd string) time.Duration {
		start := time.Now()
		id, err := cc.Create(ctx, engine.ContainerSpec{Image: ref, Cmd: []string{"sh", "-c", cmd},
			Mounts: []engine.Mount{{Type: "bind", Source: shared, Target: "/share", ReadOnly: true}}})
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Remove(ctx, id, true, false)
		wait, err := cc.Wait(ctx, id, "next-exit")
		if err != nil {
			b.Fatal(err)
		}
		if err := cc.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if code, err := wait(); err != nil || code != 0 {
			b.Fatalf("%s: exit %d, %v", cmd, code, err)
		}
		return time.Since(start)
	}
	run("true") // warm the image's layers
	var read time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Another name each round: the guest's page cache holds nothing of it.
		name := fmt.Sprintf("big%d", i)
		b.StopTimer()
		os.Rename(filepath.Join(shared, "big"), filepath.Join(shared, name))
		b.StartTimer()
		read += run("cat /share/"+name+" > /dev/null") - run("true")
		b.StopTimer()
		os.Rename(filepath.Join(shared, name), filepath.Join(shared, "big"))
		b.StartTimer()
	}
	b.ReportMetric(float64(size)/(1<<20)/(read.Seconds()/float64(b.N)), "MiB/s-read")
}

// BenchmarkVMAdopt measures taking over a running VM, as the app does
// when it starts again after quitting with keep_running (or crashing):
// a new driver on the same folder attaches to the QEMU that runs.
//
//	go test -run '^$' -bench VMAdopt -benchtime 20x ./engine/vm
func BenchmarkVMAdopt(b *testing.B) {
	img := buildImage(b)
	cfg := QEMUConfig{Dir: b.TempDir(), Kernel: filepath.Join(img, "vmlinux"), Initrd: filepath.Join(img, "initramfs.cpio"), DiskGB: 8}
	first := NewQEMU(cfg)
	ctx := context.Background()
	if err := first.Start(ctx); err != nil {
		b.Fatalf("%v\n%s", err, first.Status().ConsoleTail)
	}
	defer first.Stop(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := NewQEMU(cfg)
		if !q.Attach() {
			b.Fatal("the running VM was not taken over")
		}
	}
}
