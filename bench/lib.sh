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
