#!/usr/bin/env bash
# Compose and docker cp, Berth beside Debian's dockerd in one run (medians
# of RUNS):
#   1. docker-compose up -d (v1, and compose v2 where built) of a
#      two-service project (project network, named volume, bind mount,
#      published port) until its port answers; down -v between runs;
#   2. docker cp of a 100 MB folder (100 files of 1 MiB) into a running
#      container, and out of it.
# Needs root; starts the peers' dockerd and registry if they are down, and
# a berthd of its own, which it ends by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
OUT=$ROOT/bench/out
mkdir -p "$OUT"
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
need_packages docker.io docker-compose docker-registry busybox-static debootstrap hyperfine curl
PEERS=/var/tmp/berth-peers
fresh_peers
"$PEERS/start-daemons.sh" >/dev/null
"$PEERS/mkbase.sh" >/dev/null
IMG=127.0.0.1:5000/busybox:latest

go build -tags seccomp -o "$ROOT/bin/berthd" ./cmd/berthd
SOCK=/run/berth-bench-compose/berth.sock
if [ -f /run/berth-bench-compose/berthd.pid ]; then kill "$(cat /run/berth-bench-compose/berthd.pid)" 2>/dev/null || true; sleep 0.5; fi
{ grep /var/lib/berth-bench-compose /proc/mounts || true; } | awk '{print $2}' | xargs -r umount -l
rm -rf /var/lib/berth-bench-compose
"$ROOT/bin/berthd" -H "unix://$SOCK" --data-root /var/lib/berth-bench-compose --exec-root /run/berth-bench-compose \
  --bridge berthcb0 --bip 10.87.0.1/24 --default-address-pool base=10.86.0.0/16,size=24 >"$OUT/berthd-compose.log" 2>&1 &
BERTHD=$!
trap 'kill $BERTHD 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
berth="docker -H unix://$SOCK"
$berth pull -q $IMG >/dev/null
docker pull -q $IMG >/dev/null

export BENCH_PORT=18090
project="-p benchcompose -f $ROOT/bench/compose/docker-compose.yml"
until_up="timeout 20 bash -c 'until curl -sf -o /dev/null http://127.0.0.1:$BENCH_PORT/index.html; do :; done'"
down="DOCKER_HOST=unix://$SOCK docker-compose $project down -v >/dev/null 2>&1; docker-compose $project down -v >/dev/null 2>&1; true"
# compose v2 too, where packaging/dev/setup.sh test has built it.
V2=${COMPOSE_V2:-/var/tmp/berth-test-tools/docker-compose-v2.35.1}
v2=()
if [ -x "$V2" ]; then
  v2=(-n "berth: compose v2 up -d until served" "DOCKER_HOST=unix://$SOCK $V2 $project up -d >/dev/null 2>&1 && $until_up"
    -n "dockerd: compose v2 up -d until served" "$V2 $project up -d >/dev/null 2>&1 && $until_up")
fi
hyperfine --shell bash --warmup 1 --runs "$RUNS" --export-json "$OUT/compose-up.json" --export-markdown "$OUT/compose-up.md" --prepare "$down" \
  -n "berth: docker-compose up -d until served" "DOCKER_HOST=unix://$SOCK docker-compose $project up -d >/dev/null 2>&1 && $until_up" \
  -n "dockerd: docker-compose up -d until served" "docker-compose $project up -d >/dev/null 2>&1 && $until_up" \
  "${v2[@]}"
bash -c "$down"

# docker cp: 100 files of 1 MiB of random bytes, in and out.
DATA=/var/tmp/berth-bench-cp
if [ ! -d "$DATA/in" ]; then
  mkdir -p "$DATA/in"
  for i in $(seq 1 100); do head -c 1048576 /dev/urandom >"$DATA/in/f$i"; done
fi
for eng in "$berth" docker; do
  $eng rm -f benchcp >/dev/null 2>&1 || true
  $eng run -d --name benchcp $IMG sleep 100000 >/dev/null
  $eng cp "$DATA/in" benchcp:/tmp/in
done
hyperfine --shell bash --warmup 1 --runs "$RUNS" --export-json "$OUT/cp.json" --export-markdown "$OUT/cp.md" \
  --prepare "$berth exec benchcp rm -rf /tmp/new; docker exec benchcp rm -rf /tmp/new; rm -rf $DATA/out-berth $DATA/out-docker" \
  -n "berth: docker cp 100 MB in" "$berth cp $DATA/in benchcp:/tmp/new" \
  -n "dockerd: docker cp 100 MB in" "docker cp $DATA/in benchcp:/tmp/new" \
  -n "berth: docker cp 100 MB out" "$berth cp benchcp:/tmp/in $DATA/out-berth" \
  -n "dockerd: docker cp 100 MB out" "docker cp benchcp:/tmp/in $DATA/out-docker"
$berth rm -f benchcp >/dev/null
docker rm -f benchcp >/dev/null
rm -rf "$DATA/out-berth" "$DATA/out-docker"
cat "$OUT/compose-up.md" "$OUT/cp.md"
