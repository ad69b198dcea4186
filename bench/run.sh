#!/usr/bin/env bash
# Container start latency, side by side in one run (medians of RUNS):
#   1. `docker run --rm busybox true`: the docker CLI against berthd and
#      against Debian's dockerd, and `runc run` on the same busybox rootfs;
#   2. `docker run -d -p` until the published port answers: berthd,
#      dockerd and podman;
#   3. idle berthd resident memory;
#   4. the in-process Go benchmark (create+start+wait+remove).
# Needs root and bench/pull.sh's peers (it starts them if they are down).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-20}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
need_packages docker.io podman runc skopeo docker-registry busybox-static debootstrap hyperfine curl
PEERS=/var/tmp/berth-peers
fresh_peers
"$PEERS/start-daemons.sh" >/dev/null
"$PEERS/mkbase.sh" >/dev/null
IMG=127.0.0.1:5000/busybox:latest

go build -tags seccomp -o "$ROOT/bin/berthd" ./cmd/berthd
SOCK=/run/berth-bench/berth.sock
# A berthd an earlier run left (cut off mid-run): ended by the PID it recorded.
if [ -f /run/berth-bench/berthd.pid ]; then kill "$(cat /run/berth-bench/berthd.pid)" 2>/dev/null || true; sleep 0.5; fi
{ grep /var/lib/berth-bench-run /proc/mounts || true; } | awk '{print $2}' | xargs -r umount -l
rm -rf /var/lib/berth-bench-run
"$ROOT/bin/berthd" -H "unix://$SOCK" --data-root /var/lib/berth-bench-run --exec-root /run/berth-bench >"$OUT/berthd-run.log" 2>&1 &
BERTHD=$!
trap 'kill $BERTHD 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
berth="docker -H unix://$SOCK"
$berth pull -q $IMG >/dev/null
docker pull -q $IMG >/dev/null
# shellcheck disable=SC1091
(source "$PEERS/env.sh"; podman pull -q --tls-verify=false $IMG >/dev/null)

# runc on the same root filesystem the busybox image has.
B=/var/tmp/berth-bench-bundle
rm -rf "$B" && mkdir -p "$B" && cp -a /var/tmp/berth-bench-rootfs/busybox "$B/rootfs"
(cd "$B" && runc spec && python3 -c "
import json; c=json.load(open('config.json')); c['process']['terminal']=False; c['process']['args']=['true']; json.dump(c,open('config.json','w'))")

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/run-true.json" --export-markdown "$OUT/run-true.md" \
  -n "berth: docker run --rm busybox true" "$berth run --rm $IMG true" \
  -n "dockerd: docker run --rm busybox true" "docker run --rm $IMG true" \
  -n "runc run (same rootfs)" "runc run -b $B berthbench"

PORT=18089
serve='httpd -f -p 80 -h /etc'
# Bounded: a port that never answers fails the run instead of spinning.
until_up="timeout 10 bash -c 'until curl -sf -o /dev/null http://127.0.0.1:$PORT/hostname; do :; done'"
# podman publishes ports through iptables; where dockerd has set the
# FORWARD policy to DROP (as here), its port never answers. PODMAN=1 adds it.
podman_cmd=()
if [ "${PODMAN:-0}" = 1 ]; then
  podman_cmd=(-n "podman: run -d -p until served"
    "source $PEERS/env.sh; podman run -d --name benchweb -p 127.0.0.1:$PORT:80 $IMG $serve >/dev/null && $until_up")
fi
# Every run starts with the port free: the web container of all three removed.
clean="$berth rm -f benchweb >/dev/null 2>&1; docker rm -f benchweb >/dev/null 2>&1; source $PEERS/env.sh; podman rm -f benchweb >/dev/null 2>&1; true"
hyperfine --shell bash --warmup 2 --runs "$RUNS" --export-json "$OUT/run-port.json" --export-markdown "$OUT/run-port.md" --prepare "$clean" \
  -n "berth: run -d -p until served" \
  "$berth run -d --name benchweb -p 127.0.0.1:$PORT:80 $IMG $serve >/dev/null && $until_up" \
  -n "dockerd: run -d -p until served" \
  "docker run -d --name benchweb -p 127.0.0.1:$PORT:80 $IMG $serve >/dev/null && $until_up" \
  "${podman_cmd[@]}"
bash -c "$clean"

sleep 2
echo "idle berthd RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$BERTHD/status)" | tee "$OUT/idle-rss.txt"
for p in dockerd containerd; do
  pid=$(pgrep -xo "$p" || true)
  [ -n "$pid" ] && echo "idle $p RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)" | tee -a "$OUT/idle-rss.txt"
done
go test -run '^$' -bench RunTrue -benchtime 20x -count 5 ./engine/runtime/ | tee "$OUT/run-go.txt"
