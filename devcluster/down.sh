#!/usr/bin/env bash
# Stops what devcluster/up.sh started: the second cluster (cluster2.sh), the
# slurmd's, slurmctld, slurmdbd, MariaDB, and munged if up.sh started it; in
# that order (slurmctld hands its last records to slurmdbd). Quiet when nothing runs. Cached images and state (the accounting
# database too) stay.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) == 0 ]] || die "run as root"
bash "$REPO/devcluster/cluster2.sh" stop
stop_slurm
stop_accounting
if [[ -e $MUNGED_OURS ]]; then
  stop_pids munged "$MUNGED_PIDFILE"
  rm -f "$MUNGED_OURS"
fi
