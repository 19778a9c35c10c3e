#!/usr/bin/env bash
# Prints whether each part of the dev cluster is up; exits 1 if any is not.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
# show NAME PIDFILE COMM
show() {
  local pid
  if pid=$(pid_alive "$2" "$3"); then
    printf '%-22s up (pid %s)\n' "$1" "$pid"
  else
    printf '%-22s down\n' "$1"
    rc=1
  fi
}
show munged "$MUNGED_PIDFILE" munged
show slurmctld "$(slurmctld_pidfile)" slurmctld
for n in "${NODES[@]}"; do show "slurmd $n" "$(slurmd_pidfile "$n")" slurmd; done
if accounting_on; then
  show slurmdbd "$SLURMDBD_PIDFILE" slurmdbd
  show mariadbd "$MARIADB_PIDFILE" mariadbd
else
  printf '%-22s off (DEVCLUSTER_ACCOUNTING=0)\n' accounting
fi
if [[ -x $STATE/bin/apptainer ]]; then
  printf '%-22s %s\n' apptainer "$STATE/bin/apptainer"
else
  printf '%-22s missing\n' apptainer
  rc=1
fi
if [[ -r $STATE/images/jupyterlab.sif ]]; then
  printf '%-22s %s\n' image "$(readlink -f "$STATE/images/jupyterlab.sif")"
else
  printf '%-22s missing\n' image
  rc=1
fi
if ((rc == 0)); then sinfo -N -o '%N %P %t %G' | sed 's/^/  /'; fi
exit "$rc"
