# Shared by the bench scripts (sourced, not run).

# need_packages installs those of the named Debian packages that are not
# installed yet.
need_packages() {
  local need=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  fi
}

# fresh_peers copies the peers' scripts into $PEERS, keeping its run/ and
# logs/: the PIDs of the daemons an earlier run started stay, so
# stop-daemons.sh can still end them by PID.
fresh_peers() {
  mkdir -p "$PEERS"
  cp -r "$ROOT/../shared/peers/." "$PEERS/"
  chmod -R u+w "$PEERS"
}

# peers_for_builds makes sure of what the build benchmarks drive beside
# Berth: the peers' dockerd and registry (started when down), their
# python:3.11-slim base, and buildx (visible with DOCKER_CONFIG=
# $PEERS/tools/docker-config).
peers_for_builds() {
  if [ ! -d "$PEERS" ]; then cp -r "$ROOT/../shared/peers" "$PEERS" && chmod -R u+w "$PEERS"; fi
  pgrep -x dockerd >/dev/null && curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$PEERS/start-daemons.sh" >/dev/null
  curl -sf http://127.0.0.1:5000/v2/python/tags/list | grep -q 3.11-slim || "$PEERS/mkbase.sh" >/dev/null
  [ -x "$PEERS/tools/docker-config/cli-plugins/docker-buildx" ] || "$PEERS/get-buildx.sh" >/dev/null
}

# start_berthd NAME [berthd flags…] builds berthd and starts it on an
# empty data root, /var/lib/berth-bench-NAME, with /run/berth-bench-NAME
# for its state and socket ($SOCK), logging to $OUT/berthd-NAME.log; a
# berthd an earlier run left there (cut off mid-run) is ended first, by
# the PID it recorded. BERTHD is the new one's PID: the caller ends it.
start_berthd() {
  local name=$1 run=/run/berth-bench-$1 data=/var/lib/berth-bench-$1
  shift
  go build -tags seccomp -o "$ROOT/bin/berthd" ./cmd/berthd
  if [ -f "$run/berthd.pid" ]; then kill "$(cat "$run/berthd.pid")" 2>/dev/null || true; sleep 0.5; fi
  { grep "$data" /proc/mounts || true; } | awk '{print $2}' | xargs -r umount -l
  rm -rf "$data"
  SOCK=$run/berth.sock
  "$ROOT/bin/berthd" -H "unix://$SOCK" --data-root "$data" --exec-root "$run" "$@" >"$OUT/berthd-$name.log" 2>&1 &
  BERTHD=$!
  for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
}
