package app

import (
	"context"
	"maps"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// superviseScript runs the container's command as a child it restarts on
// SIGHUP, so Watch's hot sync restarts the process in about a
// millisecond instead of the whole container (new namespaces, mounts,
// network and seccomp filter: 60–70 ms here). The child gets a process
// group of its own where the image has setsid (Debian's util-linux,
// busybox), so a server's workers go with it; other signals a stop sends
// are passed on, and the child's exit is the container's.
const superviseScript = `child=
restart=
own=
command -v setsid >/dev/null 2>&1 && own=setsid
trap 'restart=1; kill -KILL -$child 2>/dev/null || kill -KILL $child 2>/dev/null' HUP
for sig in TERM INT QUIT USR1 USR2; do
  trap "kill -$sig -\$child 2>/dev/null || kill -$sig \$child 2>/dev/null" $sig
done
while :; do
  restart=
  $own "$@" &
  child=$!
  while :; do
    wait $child
    status=$?
    if [ -n "$restart" ]; then
      wait $child 2>/dev/null
      break
    fi
    kill -0 $child 2>/dev/null || exit $status
  done
done
`

// imageInspector reads an image's config.
type imageInspector interface {
	Inspect(ctx context.Context, name string) (engine.ImageDetail, error)
}

// supervised is spec with its command (the image's entrypoint and command
// unless spec replaces them) run under superviseScript; ok=false when
// there is no command to run.
func supervised(spec engine.ContainerSpec, cfg engine.ImageConfig) (engine.ContainerSpec, bool) {
	entry, cmd := cfg.Entrypoint, cfg.Cmd
	if spec.Entrypoint != nil {
		entry, cmd = spec.Entrypoint, nil // as docker run --entrypoint, which drops the image's CMD
	}
	if spec.Cmd != nil {
		cmd = spec.Cmd
	}
	argv := append(append([]string{}, entry...), cmd...)
	if len(argv) == 0 {
		return spec, false
	}
	spec.Entrypoint = []string{"/bin/sh", "-c", superviseScript, "berth-watch"}
	spec.Cmd = argv
	spec.Labels = maps.Clone(spec.Labels)
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	spec.Labels[SupervisedLabel] = "true"
	return spec, true
}

// SupervisedLabel marks a container whose command runs under Watch's
// supervisor, so its details show the command, not the supervisor.
const SupervisedLabel = "dev.berth.watch.supervised"

// command is the command a container runs as a person gave it: under
// Watch's supervisor, the command it restarts.
func command(c engine.Container) string {
	args := c.Args
	if c.Labels[SupervisedLabel] == "true" && len(args) >= 3 && args[2] == "berth-watch" {
		return strings.Join(args[3:], " ") + " (restarted by Watch on a sync)"
	}
	return strings.TrimSpace(strings.Join(append([]string{c.Path}, args...), " "))
}
