#!/usr/bin/env bash
# Starts, stops or restarts det-bridge for the dev cluster, by pid file.
# Usage: devcluster/bridge.sh start|stop|restart
set -euo pipefail
# shellcheck source=devcluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIDFILE=$STATE/run/bridge.pid
SUMFILE=$STATE/run/bridge.sum
LOG=$STATE/log/bridge.log
CONFIG=$REPO/site-configs/devcluster.yaml
BIN=$REPO/bin/det-bridge

# DET_PROXY_MODE=direct (or tunnel) overrides the config's proxy_mode, as
# `make e2e-direct` does.
MODE_ARGS=()
[[ -n ${DET_PROXY_MODE:-} ]] && MODE_ARGS=(--proxy-mode "$DET_PROXY_MODE")

binary_sum() { { cat "$BIN" "$CONFIG"; echo "${DET_PROXY_MODE:-}"; } | sha256sum | cut -c1-16; }

wait_ready() {
  local i
  for ((i = 0; i < 100; i++)); do
    if curl -fsS -o /dev/null -X POST -d '{"username":"determined","password":""}' http://127.0.0.1:8080/api/v1/auth/login 2>/dev/null; then
      return 0
    fi
    pid_alive "$PIDFILE" det-bridge >/dev/null || { tail -20 "$LOG" >&2; die "det-bridge exited; its log is $LOG"; }
    sleep 0.1
  done
  tail -20 "$LOG" >&2
  die "det-bridge did not answer on 127.0.0.1:8080 within 10 s; its log is $LOG"
}

# Jobs run as the linked POSIX user: `determined` (what `det` uses when no
# one logged in) runs its notebooks as alice on the dev cluster.
link_default_user() {
  DET_USER=admin DET_PASS='' DET_MASTER=http://127.0.0.1:8080 \
    "$REPO/bin/det" user link-with-agent-user determined --agent-user alice >/dev/null
}

start() {
  [[ -x $BIN ]] || die "$BIN is missing: run 'make build'"
  mkdir -p "$STATE/run" "$STATE/log" "$STATE/bridge"
  if pid_alive "$PIDFILE" det-bridge >/dev/null && [[ $(cat "$SUMFILE" 2>/dev/null) == "$(binary_sum)" ]]; then
    note "det-bridge already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  stop_pid "$PIDFILE" det-bridge
  "$BIN" check-config "$CONFIG" >/dev/null
  # PATH and SLURM_CONF reach sbatch and, through it, the jobs.
  SLURM_CONF=$STATE/slurm.conf nohup "$BIN" --config "$CONFIG" "${MODE_ARGS[@]}" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  binary_sum >"$SUMFILE"
  wait_ready
  link_default_user
  note "det-bridge running on http://127.0.0.1:8080 (pid $(cat "$PIDFILE")), log $LOG"
}

case ${1:-} in
  start) start ;;
  stop) stop_pid "$PIDFILE" det-bridge ;;
  restart) stop_pid "$PIDFILE" det-bridge; start ;;
  *) die "usage: $0 start|stop|restart" ;;
esac
