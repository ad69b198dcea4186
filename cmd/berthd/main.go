// Command berthd is Berth's engine daemon: it keeps images and serves the
// Docker Engine API on a unix socket, so the Berth app and the stock docker
// CLI drive it alike. Flags use dockerd's names.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/engine/api"
	"github.com/berth-dev/berth/engine/events"
	"github.com/berth-dev/berth/engine/memtrim"
	"github.com/berth-dev/berth/engine/registry"
	"github.com/berth-dev/berth/engine/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// netFlags are the flags the container runtime needs.
type netFlags struct {
	dataRoot, runDir, bridge, bip string
	// pool and poolSize: where user-defined networks' subnets come from.
	pool                   string
	poolSize               int
	nat, portsOnAnyAddress bool
	rootless               bool     // an ordinary user's engine, in its user namespace
	sharedFolders          []string // not nil in a VM
	storageDriver          string   // overlayfs or fuse-overlayfs; "": the kernel's where it can
}

type listOpt []string

func (l *listOpt) String() string     { return strings.Join(*l, ",") }
func (l *listOpt) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	runNamespaceInit()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "berthd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("berthd", flag.ContinueOnError)
	var hosts, insecure listOpt
	fs.Var(&hosts, "H", "daemon socket to listen on: unix:///path or tcp://127.0.0.1:PORT (default "+defaultHost()+")")
	fs.Var(&hosts, "host", "same as -H")
	dataRoot := fs.String("data-root", defaultDataRoot(), "directory for images, containers and volumes")
	runDir := fs.String("exec-root", defaultRunDir(), "directory for state that must not outlive a reboot (container runtime state, network namespaces)")
	fs.Var(&insecure, "insecure-registry", "registry (HOST:PORT) to reach over plain HTTP; repeatable. Loopback registries always are")
	bridge := fs.String("bridge", "berth0", "network bridge containers attach to (created if missing)")
	fs.StringVar(bridge, "b", "berth0", "same as --bridge")
	bip := fs.String("bip", "10.88.0.1/16", "the bridge's address and subnet (containers get addresses from it)")
	ipMasq := fs.Bool("ip-masq", true, "masquerade containers' outbound traffic (iptables)")
	addressPool := fs.String("default-address-pool", "base=10.89.0.0/16,size=24", "where user-defined networks' subnets come from: base=CIDR,size=PREFIX-LENGTH")
	var shared listOpt
	fs.Var(&shared, "shared-folder", "a folder of the user's computer that this engine's VM sees at the same path; repeatable (see --vm)")
	inVM := fs.Bool("vm", false, "this engine runs in Berth's VM: a bind mount's missing source must lie in a --shared-folder, since the user's other paths are on another computer")
	portsOnAnyAddress := fs.Bool("publish-on-any-address", false, "published ports listen on every address whatever host IP they name (an engine in a VM: the host IP is the user's computer's, where the VM helper opens the port)")
	group := fs.String("group", "berth", "group that owns a root engine's unix socket (mode 0660), so its members reach the engine without sudo, like Docker's docker group; \"\" for root alone")
	fs.StringVar(group, "G", "berth", "same as --group")
	storageDriver := fs.String("storage-driver", "", "how layers are mounted: overlayfs (the kernel's) or fuse-overlayfs; by default the kernel's, and fuse-overlayfs where a rootless engine's kernel refuses")
	fs.StringVar(storageDriver, "s", "", "same as --storage-driver")
	showVersion := fs.Bool("version", false, "print the version and exit")
	tlsVerify := fs.Bool("tlsverify", false, "serve tcp:// hosts over TLS and accept only clients with a certificate signed by --tlscacert")
	tlsCA := fs.String("tlscacert", "", "CA certificate clients' certificates must be signed by")
	tlsCert := fs.String("tlscert", "", "the daemon's TLS certificate")
	tlsKey := fs.String("tlskey", "", "the daemon's TLS key")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: berthd [flags]\n\nBerth's engine: keeps images and serves the Docker Engine API.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *showVersion {
		fmt.Println("Berth Engine", version)
		return nil
	}
	if len(hosts) == 0 {
		hosts = listOpt{defaultHost()}
	}
	rootlessEngine, err := becomeRootless(fs, args, map[string]string{"data-root": *dataRoot, "exec-root": *runDir, "H": hosts[0]})
	if err != nil {
		return err
	}

	access := socketAccess{private: rootlessEngine, gid: -1}
	if !rootlessEngine {
		groupSet := false
		fs.Visit(func(f *flag.Flag) { groupSet = groupSet || f.Name == "group" || f.Name == "G" })
		if access.gid, err = socketGroup(*group, groupSet); err != nil {
			return err
		}
	}

	release, err := claim(*dataRoot, *runDir) // before the store's recovery reads the data root
	if err != nil {
		return err
	}
	defer release()
	evlog := events.NewLog(0)
	var imageUsers func(string) int // set once the runtime is up
	var cacheRoots func() []string  // set once the builder is up
	st, err := store.Open(filepath.Join(*dataRoot, "images"), store.WithEvents(evlog.Publish), store.WithUsage(func(id string) int {
		if imageUsers == nil {
			return 0
		}
		return imageUsers(id)
	}), store.WithRoots(func() []string {
		if cacheRoots == nil {
			return nil
		}
		return cacheRoots()
	}))
	if err != nil {
		return err
	}
	defer st.Close()
	reg := registry.New(st, registry.WithInsecure(insecure...), registry.WithEvents(evlog.Publish))
	backend := api.Backend{Images: st, Registry: reg, Archives: st, Events: evlog, Importer: st}
	nf := netFlags{dataRoot: *dataRoot, runDir: *runDir, bridge: *bridge, bip: *bip, nat: *ipMasq, portsOnAnyAddress: *portsOnAnyAddress, rootless: rootlessEngine, storageDriver: *storageDriver}
	if nf.pool, nf.poolSize, err = parseAddressPool(*addressPool); err != nil {
		return err
	}
	if *inVM {
		nf.sharedFolders = append([]string{}, shared...)
	}
	stopContainers, err := containers(&backend, st, reg, nf, evlog, func(f func(string) int) { imageUsers = f }, func(f func() []string) { cacheRoots = f })
	if err != nil {
		return err
	}
	// However berthd ends from here on, even failing to listen, its
	// containers stop and its network goes (bridge, prepared namespaces).
	stopRuntime := sync.OnceFunc(func() {
		stopping, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		stopContainers(stopping)
	})
	defer stopRuntime()
	security, warnings := securityInfo(nf)
	handler := api.NewHandler(backend, api.Info{Version: version, DataRoot: *dataRoot, InsecureRegistries: insecure, SecurityOptions: security, Warnings: warnings, BridgeName: *bridge, BridgeCIDR: *bip, StorageDriver: storageDriverInUse})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	trimmer := &memtrim.Trimmer{Quiet: 5 * time.Second}
	go trimmer.Run(ctx)
	srv := &http.Server{Handler: trimAfterRequests(trimmer, handler), ReadHeaderTimeout: 30 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, len(hosts))
	for _, h := range hosts {
		l, err := listen(h, *tlsVerify, access)
		if err != nil {
			return err
		}
		if *tlsVerify && strings.HasPrefix(h, "tcp://") {
			cfg, err := serverTLS(*tlsCA, *tlsCert, *tlsKey)
			if err != nil {
				return err
			}
			l = tls.NewListener(l, cfg)
		}
		log.Printf("berthd %s serving the Docker Engine API on %s (data root %s)", version, h, *dataRoot)
		go func() { errc <- srv.Serve(l) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Print("shutting down")
	// Containers first: stopping them also ends the attach and log
	// streams that would keep the server's shutdown waiting.
	stopRuntime()
	closing, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(closing)
}

// listen opens unix:///path (replacing a stale socket, refusing one a
// live daemon answers on) or tcp://host:port.
// serverTLS is docker's --tlsverify: mutual TLS with the given CA.
func serverTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tlscacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("--tlscacert %s holds no certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tlscert/--tlskey: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}, nil
}

// socketAccess is who may reach a unix socket besides its owner: nobody
// (private: an ordinary user's engine), or a group (gid, -1 for none).
type socketAccess struct {
	private bool
	gid     int
}

// socketGroup is the ID of the group named to own the socket: -1 when
// none is named, or when the default one (berth) does not exist, as
// dockerd does with its docker group; a group named on purpose must exist.
func socketGroup(name string, named bool) (int, error) {
	if name == "" {
		return -1, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		if named {
			return -1, fmt.Errorf("--group %s: %w (create it with: sudo groupadd --system %s)", name, err, name)
		}
		return -1, nil
	}
	return strconv.Atoi(g.Gid)
}

func listen(host string, authenticated bool, access socketAccess) (net.Listener, error) {
	proto, addr, ok := strings.Cut(host, "://")
	if !ok {
		return nil, fmt.Errorf("-H %s: want unix:///path or tcp://host:port", host)
	}
	switch proto {
	case "unix":
		if conn, err := net.Dial("unix", addr); err == nil {
			conn.Close()
			return nil, fmt.Errorf("another daemon is already serving %s", host)
		}
		dirMode, sockMode := os.FileMode(0o755), os.FileMode(0o660)
		if access.private { // an ordinary user's engine is that user's alone
			dirMode, sockMode = 0o700, 0o600
		}
		if err := os.MkdirAll(filepath.Dir(addr), dirMode); err != nil {
			return nil, err
		}
		if err := os.Remove(addr); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		l, err := net.Listen("unix", addr)
		if err != nil {
			return nil, err
		}
		// Like docker.sock: whoever may use the socket controls the engine.
		if err := os.Chmod(addr, sockMode); err != nil {
			l.Close()
			return nil, err
		}
		if access.gid >= 0 && !access.private {
			if err := os.Chown(addr, -1, access.gid); err != nil {
				l.Close()
				return nil, fmt.Errorf("give the socket to its group: %w", err)
			}
		}
		return l, nil
	case "tcp":
		if h, _, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(h); !authenticated && (ip == nil || !ip.IsLoopback()) {
				log.Printf("warning: %s is reachable from the network without authentication", host)
			}
		}
		return net.Listen("tcp", addr)
	}
	return nil, fmt.Errorf("-H %s: unsupported protocol %q", host, proto)
}

func defaultHost() string {
	if os.Geteuid() == 0 {
		return "unix:///run/berth/berth.sock"
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return "unix://" + filepath.Join(dir, "berth", "berth.sock")
	}
	return "unix://" + filepath.Join(os.TempDir(), fmt.Sprintf("berth-%d", os.Getuid()), "berth.sock")
}

func defaultRunDir() string {
	if os.Geteuid() == 0 {
		return "/run/berth"
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "berth")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("berth-%d", os.Getuid()))
}

func defaultDataRoot() string {
	if os.Geteuid() == 0 {
		return "/var/lib/berth"
	}
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return filepath.Join(dir, "berth")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "berth")
}

// parseAddressPool reads --default-address-pool as dockerd writes it:
// base=10.89.0.0/16,size=24.
func parseAddressPool(v string) (string, int, error) {
	var base string
	size := 0
	for _, part := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "base":
			base = val
		case "size":
			n, err := strconv.Atoi(val)
			if err != nil {
				return "", 0, fmt.Errorf("--default-address-pool %q: size must be a number", v)
			}
			size = n
		default:
			return "", 0, fmt.Errorf("--default-address-pool %q: write base=CIDR,size=N", v)
		}
	}
	if base == "" || size == 0 {
		return "", 0, fmt.Errorf("--default-address-pool %q: write base=CIDR,size=N", v)
	}
	return base, size, nil
}
