#!/usr/bin/env bash
# Rootless Berth against rootless Podman (Debian's podman 4.3) and rootful
# Berth, side by side in one run (hyperfine medians of RUNS):
#   run-true   `run --rm busybox true`
#   run-port   `run -d -p` until the published port answers
#   pull       the peers' Python image into an empty store, ready to run
#   build      the Python sample app: cold (no image, no cache) and cached
# The rootless engines run as an ordinary user this script makes
# (berth-bench, subordinate IDs 400000-465535); every command, rootful
# Berth's too, goes through the same setpriv so each pays the same.
#
#   bash bench/rootless.sh        # RUNS=10 by default
#
# Needs root; starts the peers' registry when it is down. Ends only the
# engines it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
need_packages podman uidmap passt hyperfine docker.io docker-registry busybox-static debootstrap curl
PEERS=/var/tmp/berth-peers
if [ ! -d "$PEERS" ]; then cp -r "$ROOT/../shared/peers" "$PEERS" && chmod -R u+w "$PEERS"; fi
chmod -R o+rX "$PEERS"
curl -sf http://127.0.0.1:5000/v2/ >/dev/null || "$PEERS/start-daemons.sh" >/dev/null
curl -sf http://127.0.0.1:5000/v2/python/tags/list | grep -q 3.11-slim || "$PEERS/mkbase.sh" >/dev/null
BB=127.0.0.1:5000/busybox:latest
PY=127.0.0.1:5000/python:3.11-slim

U=berth-bench
if ! id "$U" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$U"
  usermod --add-subuids 400000-465535 --add-subgids 400000-465535 "$U"
fi
UHOME=$(getent passwd "$U" | cut -d: -f6)
XDG=/tmp/berth-bench-xdg
rm -rf "$XDG" && mkdir -p "$XDG/peers" && chown -R "$U:$U" "$XDG" && chmod 700 "$XDG"
as_user="setpriv --reuid=$U --regid=$U --init-groups env -i HOME=$UHOME USER=$U XDG_RUNTIME_DIR=$XDG PATH=/usr/bin:/bin BENCH_HERE=$XDG/peers"
as_root="setpriv --reuid=0 --regid=0 --clear-groups env -i HOME=/root PATH=/usr/bin:/bin"

BIN=/var/tmp/berth-bench-bin
mkdir -p "$BIN"
go build -tags seccomp -o "$BIN/berthd" ./cmd/berthd
chmod 755 "$BIN" "$BIN/berthd"

# The rootless engine, as the person: no flags, their folders.
$as_user bash -c "rm -rf $UHOME/.local/share/berth; source $PEERS/env.sh; podman system reset -f >/dev/null 2>&1; true"
$as_user "$BIN/berthd" >"$OUT/berthd-rootless.log" 2>&1 &
RL=$!
# The rootful engine, a data root of its own.
RFSOCK=/run/berth-bench-rf/berth.sock
RFDATA=/var/lib/berth-bench-rf
{ grep "$RFDATA" /proc/mounts || true; } | awk '{print $2}' | xargs -r umount -l
rm -rf "$RFDATA"
"$BIN/berthd" -H "unix://$RFSOCK" --data-root "$RFDATA" --exec-root /run/berth-bench-rf -b berthrf0 --bip 10.234.0.1/24 >"$OUT/berthd-rootful.log" 2>&1 &
RF=$!
# Rootless podman leaves a pause process holding its user namespace: it is
# ended by the PID podman recorded, with the engines.
PAUSE=$XDG/libpod/tmp/pause.pid
trap 'kill $RL $RF 2>/dev/null || true; [ -f "$PAUSE" ] && kill "$(cat "$PAUSE")" 2>/dev/null || true; wait $RL $RF 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -S "$XDG/berth/berth.sock" ] && [ -S "$RFSOCK" ] && break; sleep 0.1; done

rl="$as_user docker -H unix://$XDG/berth/berth.sock"
# Podman at its best: native overlayfs (Debian's 4.3 picks vfs by itself
# here, which makes its builds 20x slower).
pm="$as_user bash -c 'source $PEERS/env.sh; exec podman --storage-driver overlay \"\$@\"' podman"
rf="$as_root docker -H unix://$RFSOCK"
export DOCKER_BUILDKIT=0
for e in "$rl" "$rf"; do $e pull -q $BB >/dev/null; done
eval "$pm pull -q --tls-verify=false $BB" >/dev/null 2>&1

hyperfine --shell bash --warmup 3 --runs "$RUNS" --export-json "$OUT/rootless-run-true.json" --export-markdown "$OUT/rootless-run-true.md" \
  -n "berth rootless" "$rl run --rm $BB true" \
  -n "podman rootless" "$pm run --rm $BB true 2>/dev/null" \
  -n "berth rootful" "$rf run --rm $BB true"

PORT=18091
serve='httpd -f -p 80 -h /etc'
until_up="timeout 10 bash -c 'until curl -sf -o /dev/null http://127.0.0.1:$PORT/hostname; do :; done'"
clean="$rl rm -f benchweb >/dev/null 2>&1; $pm rm -f benchweb >/dev/null 2>&1; $rf rm -f benchweb >/dev/null 2>&1; true"
hyperfine --shell bash --warmup 2 --runs "$RUNS" --export-json "$OUT/rootless-run-port.json" --export-markdown "$OUT/rootless-run-port.md" --prepare "$clean" \
  -n "berth rootless" "$rl run -d --name benchweb -p 127.0.0.1:$PORT:80 $BB $serve >/dev/null && $until_up" \
  -n "podman rootless" "$pm run -d --name benchweb -p 127.0.0.1:$PORT:80 $BB $serve >/dev/null 2>&1 && $until_up" \
  -n "berth rootful" "$rf run -d --name benchweb -p 127.0.0.1:$PORT:80 $BB $serve >/dev/null && $until_up"
bash -c "$clean"

# Pull into an empty store: the image removed (and nothing else holds its layers) before each run.
hyperfine --shell bash --warmup 1 --runs "$RUNS" --export-json "$OUT/rootless-pull.json" --export-markdown "$OUT/rootless-pull.md" \
  --prepare "$rl rmi -f $PY >/dev/null 2>&1; true" -n "berth rootless" "$rl pull -q $PY >/dev/null" \
  --prepare "$pm rmi -f $PY >/dev/null 2>&1; true" -n "podman rootless" "$pm pull -q --tls-verify=false $PY >/dev/null 2>&1" \
  --prepare "$rf rmi -f $PY >/dev/null 2>&1; true" -n "berth rootful" "$rf pull -q $PY >/dev/null"
eval "$pm pull -q --tls-verify=false $PY" >/dev/null 2>&1

# Builds of the Python sample app, in a folder the person can read.
CTX=$XDG/pyhello
cp -a "$PEERS/apps/pyhello" "$CTX" && chown -R "$U:$U" "$CTX"
declare -A build clean
build[rl]="$rl build -q -t bench/py:rl $CTX"
clean[rl]="$rl rmi -f bench/py:rl >/dev/null 2>&1; $rl builder prune -f >/dev/null 2>&1"
build[pm]="$pm build -q --layers --tls-verify=false -t bench/py:pm $CTX"
clean[pm]="$pm rmi -f bench/py:pm >/dev/null 2>&1; $pm image prune -f >/dev/null 2>&1; $pm builder prune -af >/dev/null 2>&1"
build[rf]="$rf build -q -t bench/py:rf $CTX"
clean[rf]="$rf rmi -f bench/py:rf >/dev/null 2>&1; $rf builder prune -f >/dev/null 2>&1"
declare -A name=([rl]="berth rootless" [pm]="podman rootless" [rf]="berth rootful")
for case in cold cached; do
  args=()
  for b in rl pm rf; do
    prep=true
    [ $case = cold ] && prep="${clean[$b]}"
    bash -c "${build[$b]}" >/dev/null 2>&1 # works, and warms the cache
    args+=(--prepare "$prep" -n "${name[$b]}" "${build[$b]} >/dev/null 2>&1")
  done
  hyperfine --shell bash --warmup 1 --runs "$RUNS" --export-json "$OUT/rootless-build-$case.json" --export-markdown "$OUT/rootless-build-$case.md" "${args[@]}"
done
echo "tables: $OUT/rootless-{run-true,run-port,pull,build-cold,build-cached}.md"
