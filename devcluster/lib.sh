# Shared paths and functions for up.sh, down.sh and status.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=$REPO/.devcluster
# Slow, recipe-keyed builds live outside the checkout so fresh clones reuse them.
CACHE=/var/cache/det-devcluster
# GPU nodes are named as sites name InfiniBand hosts: a number inside the name and a
# suffix after it (Slurm prints a list of them as "r1-gpu01-ib,r1-gpu02-ib"). Node i of
# NODES listens on port SLURMD_PORT_BASE + i (up.sh).
GPU_NODES=(r1-gpu01-ib r1-gpu02-ib)
CPU_NODES=(cpu1)
NODES=("${GPU_NODES[@]}" "${CPU_NODES[@]}")
export SLURM_CONF=$STATE/slurm.conf

die() { printf 'devcluster: error: %s\n' "$*" >&2; exit 1; }
note() { printf '%s\n' "$*"; }

# step MSG starts a timed step; step_done prints its duration.
_step_t0=0
step() { printf '==> %s\n' "$*"; _step_t0=$EPOCHREALTIME; }
step_done() {
  local us=$(( ${EPOCHREALTIME/./} - ${_step_t0/./} ))
  printf '    done in %d.%01ds\n' $((us / 1000000)) $((us % 1000000 / 100000))
}

# pid_alive PIDFILE NAME: prints the pid if PIDFILE names a live process called NAME.
pid_alive() {
  local pid
  [[ -r $1 ]] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [[ -n $pid && -r /proc/$pid/comm ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] || return 1
  # A killed process whose parent has not reaped it yet is not alive.
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
  printf '%s\n' "$pid"
}

# stop_pids NAME PIDFILE...: SIGTERM to every live NAME process named by the pid
# files, wait up to 10 s for all, then SIGKILL. Quiet if none runs.
stop_pids() {
  local name=$1 f pid i alive pids=()
  shift
  for f in "$@"; do
    if pid=$(pid_alive "$f" "$name"); then
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$f"
  done
  ((${#pids[@]})) || return 0
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "${pids[@]}"; do [[ -d /proc/$pid ]] && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if [[ -d /proc/$pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  note "stopped $name (pid ${pids[*]})"
}

# stop_pid PIDFILE NAME: stop_pids for one process.
stop_pid() { stop_pids "$2" "$1"; }

slurmctld_pidfile() { printf '%s\n' "$STATE/run/slurmctld.pid"; }
slurmd_pidfile() { printf '%s\n' "$STATE/run/slurmd-$1.pid"; }
MUNGED_PIDFILE=/run/munge/munged.pid
# Present only when up.sh started munged, so down.sh stops only what up.sh started.
MUNGED_OURS=$STATE/run/munged.started-by-up

# Accounting: MariaDB (data in the state folder, run as user mysql, which owns its
# run folder for the pid file and socket) and slurmdbd.
CLUSTER=devcluster
MARIADB_DATA=$STATE/mariadb
MARIADB_RUN=$STATE/run/mariadb
# A Unix socket path must stay under 108 bytes; deep checkouts use /run instead.
if ((${#MARIADB_RUN} > 80)); then
  MARIADB_RUN=/run/det-devcluster-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
fi
MARIADB_PIDFILE=$MARIADB_RUN/mariadbd.pid
MARIADB_SOCKET=$MARIADB_RUN/mariadbd.sock
MARIADB_PORT=16306
SLURMDBD_PORT=6819
SLURMRESTD_PORT=6820
SLURMRESTD_PIDFILE=$STATE/run/slurmrestd.pid
SLURMRESTD_PLUGINS=openapi/v0.0.38
SLURMRESTD_DB_PLUGINS=openapi/v0.0.38,openapi/dbv0.0.38
SLURMDBD_PIDFILE=$STATE/run/slurmdbd.pid

# accounting_on: whether slurm.conf sends jobs to slurmdbd.
accounting_on() { grep -qx 'AccountingStorageType=accounting_storage/slurmdbd' "$SLURM_CONF" 2>/dev/null; }

# Stop slurmctld before these, so that it hands its last records to slurmdbd.
stop_accounting() {
  stop_pids slurmdbd "$SLURMDBD_PIDFILE"
  stop_pids mariadbd "$MARIADB_PIDFILE"
}

# slurmrestd, every slurmd with a pid file (also those of nodes since
# renamed or removed), slurmctld.
stop_slurm() {
  local f files=()
  stop_pids slurmrestd "$SLURMRESTD_PIDFILE"
  for f in "$STATE"/run/slurmd-*.pid; do [[ -e $f ]] && files+=("$f"); done
  ((${#files[@]} == 0)) || stop_pids slurmd "${files[@]}"
  stop_pids slurmctld "$(slurmctld_pidfile)"
}

# ---------------------------------------------------------------- slurmrestd and JWT
# The HS256 key slurmctld and slurmdbd check JWTs with (auth/jwt as an
# alternative to munge) and the bridge signs its slurmrestd tokens with.
JWT_KEY=$STATE/jwt_hs256.key

# jwt_conf: the slurm.conf / slurmdbd.conf lines for auth/jwt.
jwt_conf() {
  printf 'AuthAltTypes=auth/jwt\nAuthAltParameters=jwt_key=%s\n' "$JWT_KEY"
}

# accounting_conf: the slurm.conf lines that send a cluster's jobs to slurmdbd.
accounting_conf() {
  cat <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$SLURMDBD_PORT
AccountingStorageEnforce=associations,limits,qos
AccountingStorageTRES=gres/gpu
JobAcctGatherType=jobacct_gather/linux
EOF
}

# slurm_common_conf: the slurm.conf lines both clusters share.
slurm_common_conf() {
  cat <<EOF
AuthType=auth/munge
$(jwt_conf)
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
GresTypes=gpu
ReturnToService=2
SlurmdParameters=config_overrides
# scancel: SIGTERM, then SIGKILL after 5 s; no extra wait before reuse.
KillWait=5
CompleteWait=0
EOF
}

# setup_jwt_key: makes the key once (root only).
setup_jwt_key() {
  [[ -s $JWT_KEY && ! -L $JWT_KEY ]] && return 0
  install -d -m 0755 "$STATE"
  rm -f "$JWT_KEY"
  (umask 077 && dd if=/dev/urandom of="$JWT_KEY" bs=32 count=1 status=none)
  chmod 0600 "$JWT_KEY"
}

# start_slurmrestd CONF PORT PIDFILE LOG PLUGINS: slurmrestd for the
# cluster of CONF on 127.0.0.1:PORT, as Debian's unprivileged slurm user
# (it refuses root and the SlurmUser), taking each client's JWT
# (SLURM_JWT=daemon), serving the OpenAPI PLUGINS (the dbv ones only with
# accounting: without slurmdbd they stop slurmrestd).
start_slurmrestd() {
  local conf=$1 port=$2 pidfile=$3 log=$4 plugins=$5 pid
  pid_alive "$pidfile" slurmrestd >/dev/null && return 0
  ss -Hltn "sport = :$port" | grep -q . && die "port $port (slurmrestd) is taken"
  id slurm >/dev/null 2>&1 || die "no user slurm (Debian's Slurm packages make it)"
  touch "$log"
  chown slurm: "$log"
  setsid env -i PATH=/usr/sbin:/usr/bin:/bin SLURM_CONF="$conf" SLURM_JWT=daemon \
    setpriv --reuid=slurm --regid=slurm --init-groups -- \
    slurmrestd -a rest_auth/jwt -s "$plugins" "127.0.0.1:$port" </dev/null >>"$log" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$pidfile"
  for _ in $(seq 1 50); do
    ss -Hltn "sport = :$port" | grep -q . && return 0
    pid_alive "$pidfile" slurmrestd >/dev/null || break
    sleep 0.1
  done
  tail -n 15 "$log" >&2
  die "slurmrestd on port $port did not start (log $log)"
}
