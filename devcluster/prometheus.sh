#!/usr/bin/env bash
# Starts or stops the dev cluster's Prometheus (Debian's package), by pid
# file: it listens on 127.0.0.1:$PROM_PORT and scrapes det-bridge's
# metrics_listen every 2 s. Usage: devcluster/prometheus.sh start|stop
set -euo pipefail
# shellcheck source=devcluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROM_PORT=${PROM_PORT:-9190}
PIDFILE=$STATE/run/prometheus.pid
LOG=$STATE/log/prometheus.log
DATA=$STATE/prometheus
CONF=$STATE/prometheus.yml
SITE_CONFIG=$REPO/site-configs/devcluster.yaml

# The bridge's metrics address, read from the site config.
metrics_target() {
  awk '/^metrics_listen:/ {print $2}' "$SITE_CONFIG"
}

write_config() {
  local target
  target=$(metrics_target)
  [[ -n $target ]] || die "site-configs/devcluster.yaml has no metrics_listen"
  cat <<YAML
global:
  scrape_interval: 2s
  evaluation_interval: 2s
scrape_configs:
  - job_name: det-bridge
    static_configs:
      - targets: ['$target']
YAML
}

start() {
  command -v prometheus >/dev/null || die "prometheus is not installed: run devcluster/up.sh (make up)"
  mkdir -p "$STATE/run" "$STATE/log" "$DATA"
  chown prometheus: "$DATA"
  write_config >"$CONF.new" && mv "$CONF.new" "$CONF"
  chmod 0644 "$CONF"
  promtool check config "$CONF" >/dev/null || die "promtool check config $CONF failed"
  if pid_alive "$PIDFILE" prometheus >/dev/null; then
    kill -HUP "$(cat "$PIDFILE")" # reread the config
    note "prometheus already running (pid $(cat "$PIDFILE")) on http://127.0.0.1:$PROM_PORT"
    return 0
  fi
  setsid setpriv --reuid=prometheus --regid=prometheus --init-groups prometheus --config.file="$CONF" --storage.tsdb.path="$DATA" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=2d \
    >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local i
  for ((i = 0; i < 100; i++)); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready" 2>/dev/null; then
      note "prometheus running on http://127.0.0.1:$PROM_PORT (pid $(cat "$PIDFILE")), scraping $(metrics_target), log $LOG"
      return 0
    fi
    pid_alive "$PIDFILE" prometheus >/dev/null || { tail -20 "$LOG" >&2; die "prometheus exited; its log is $LOG"; }
    sleep 0.2
  done
  tail -20 "$LOG" >&2
  die "prometheus did not get ready within 20 s; its log is $LOG"
}

case ${1:-} in
  start) start ;;
  stop) stop_pids prometheus "$PIDFILE" ;;
  *) die "usage: $0 start|stop" ;;
esac
