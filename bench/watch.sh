#!/usr/bin/env bash
# Save to served for the Python sample app (testdata/apps/pyhello, on the
# peers' python:3.11-slim built by debootstrap), one run, medians of RUNS
# saves of app.py:
#   1. berth watch --sync: app.py copied into the running container and
#      python restarted (Watch's hot sync);
#   2. berth watch: the image rebuilt and the container replaced;
#   3. compose watch (v2, action sync+restart) on Debian's dockerd, where
#      packaging/dev/setup.sh test has built compose v2.
# Each save is timed from the write to the first HTTP answer with the new
# text, polled every 2 ms in one process. Needs root; starts the peers'
# dockerd and registry if they are down, and a berthd of its own; ends the
# processes it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-15}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
need_packages docker.io docker-registry busybox-static debootstrap curl python3
PEERS=/var/tmp/berth-peers
fresh_peers
"$PEERS/start-daemons.sh" >/dev/null
"$PEERS/mkbase.sh" >/dev/null
BASE=127.0.0.1:5000/python:3.11-slim

go build -tags seccomp -o "$ROOT/bin/berthd" ./cmd/berthd
go build -o "$ROOT/bin/berth" ./cmd/berth
RUN=/run/berth-bench-watch
SOCK=$RUN/berth.sock
if [ -f $RUN/berthd.pid ]; then kill "$(cat $RUN/berthd.pid)" 2>/dev/null || true; sleep 0.5; fi
{ grep /var/lib/berth-bench-watch /proc/mounts || true; } | awk '{print $2}' | xargs -r umount -l
rm -rf /var/lib/berth-bench-watch
"$ROOT/bin/berthd" -H "unix://$SOCK" --data-root /var/lib/berth-bench-watch --exec-root $RUN \
  --bridge berthwb0 --bip 10.85.0.1/24 --default-address-pool base=10.84.0.0/16,size=24 >"$OUT/berthd-watch.log" 2>&1 &
PIDS=($!)
WORK=$(mktemp -d /var/tmp/berth-bench-watch.XXXXXX)
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
docker -H "unix://$SOCK" pull -q $BASE >/dev/null

# app DIR: a copy of the sample app on the peers' base image.
app() {
  mkdir -p "$1"
  cp "$ROOT"/testdata/apps/pyhello/* "$1/"
  sed -i "s|^FROM .*|FROM $BASE|" "$1/Dockerfile"
}

# measure NAME PORT DIR [CONTAINER]: RUNS timed saves of DIR/app.py (and one first,
# untimed), each waited for on PORT; a second's pause after each lets a
# rebuild in the background end, as a person's next save comes later.
measure() {
  if ! python3 - "$1" "$2" "$3/app.py" "$RUNS" >>"$OUT/watch.txt" <<'PY'; then
import re, statistics, sys, time, urllib.request
name, port, path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
src = open(path).read()
def get():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
            return r.read().decode()
    except Exception:
        return ""
deadline = time.monotonic() + 60
while get() == "":
    if time.monotonic() > deadline:
        sys.exit(f"{name}: the app never answered")
    time.sleep(0.1)
times = []
for i in range(runs + 1):
    msg = f"edit {i} {time.time_ns()}"
    text = re.sub(r'MESSAGE = ".*"', f'MESSAGE = "{msg}"', src)
    start = time.monotonic()
    with open(path, "w") as f:
        f.write(text)
    while get() != msg + "\n":
        if time.monotonic() - start > 30:
            sys.exit(f"{name}: save {i} was never served")
        time.sleep(0.002)
    if i > 0:
        times.append((time.monotonic() - start) * 1000)
    time.sleep(1.0)
print(f"{name}: save to served median {statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f}, n={len(times)})")
PY
    cat "$OUT/watch.txt"
    if [ -n "${4:-}" ]; then
      docker -H "unix://$SOCK" ps -a
      docker -H "unix://$SOCK" logs --tail 20 "$4"
    fi
    exit 1
  fi
  tail -1 "$OUT/watch.txt"
}

: >"$OUT/watch.txt"
berth=("$ROOT/bin/berth" --engine "unix://$SOCK")
app "$WORK/sync"
"${berth[@]}" watch --run --sync --name bench-sync -p 127.0.0.1:18096:8000 -t pyhello:sync "$WORK/sync" >"$OUT/berth-watch-sync.log" 2>&1 &
PIDS+=($!)
measure "berth watch --sync (copy app.py, restart python)" 18096 "$WORK/sync" bench-sync

app "$WORK/rebuild"
"${berth[@]}" watch --run --name bench-rebuild -p 127.0.0.1:18095:8000 -t pyhello:rebuild "$WORK/rebuild" >"$OUT/berth-watch-rebuild.log" 2>&1 &
PIDS+=($!)
measure "berth watch (rebuild, replace the container)" 18095 "$WORK/rebuild" bench-rebuild

V2=${COMPOSE_V2:-/var/tmp/berth-test-tools/docker-compose-v2.35.1}
# compose_watch NAME PORT [init]: the sample under compose watch, its
# app.py synced and the container restarted; with "init", under Docker's
# init (tini), which a restart needs to be quick: python as PID 1 does not
# hear the SIGTERM a restart sends, so dockerd waits its 10 s for it.
compose_watch() {
  local dir=$WORK/compose-$2 init=""
  [ "${3:-}" = init ] && init="    init: true"
  app "$dir"
  cat >"$dir/compose.yaml" <<YAML
services:
  web:
    build: .
    ports: ["127.0.0.1:$2:8000"]
$init
    develop:
      watch:
        - action: sync+restart
          path: ./app.py
          target: /app/app.py
YAML
  (cd "$dir" && "$V2" -p "benchwatch$2" up -d --build >"$OUT/compose-watch-$2.log" 2>&1)
  (cd "$dir" && exec "$V2" -p "benchwatch$2" watch --no-up >>"$OUT/compose-watch-$2.log" 2>&1) &
  PIDS+=($!)
  measure "$1" "$2" "$dir"
  (cd "$dir" && "$V2" -p "benchwatch$2" down -t 0 >/dev/null 2>&1) || true
}
if [ -x "$V2" ]; then
  compose_watch "compose watch sync+restart on dockerd" 18097
  compose_watch "compose watch sync+restart on dockerd, init: true" 18098 init
else
  echo "compose v2 is not built ($V2): run packaging/dev/setup.sh test first; compose watch left out" | tee -a "$OUT/watch.txt"
fi
docker -H "unix://$SOCK" rm -f bench-sync bench-rebuild >/dev/null 2>&1 || true
