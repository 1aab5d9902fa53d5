#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, so that job arrays run against a real
# SLURM in tests/test_slurm.py and in CI (.ci/run) rather than against a mock.
#
#   scripts/slurm_local.sh up     # install (Debian/Ubuntu, root), configure, start; wait for the node
#   scripts/slurm_local.sh down   # stop its daemons (munged, slurmctld, slurmd)
#
# `up` installs slurm-wlm and munge with apt-get when they are missing (about
# 25 s), writes a minimal /etc/slurm/slurm.conf (this host with the CPUs and
# memory `slurmd -C` finds, select/cons_tres, no accounting, no cgroups: it runs
# in containers), starts munged, slurmctld and slurmd, and returns once sinfo
# shows the node idle. It is idempotent: a cluster already answering is left as
# it is, and a slurm.conf this script did not write is never overwritten.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
STATE=/var/lib/memcap-slurm
MARK="# written by memcap scripts/slurm_local.sh: a one-node test cluster"

fail() { echo "slurm_local: $*" >&2; exit 1; }

# Whether the daemon whose pid file is $1 runs (pid files, not pgrep: a slim image has no procps).
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_idle() { [ "$(sinfo -h -N -o %t 2>/dev/null | head -1)" = idle ]; }

install() {
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return
    command -v apt-get >/dev/null || fail "slurm-wlm is not installed and there is no apt-get to install it"
    local packages=(slurm-wlm munge)
    export DEBIAN_FRONTEND=noninteractive
    # The package lists of a fresh machine may be missing or stale: update only when the install needs it.
    apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null; } \
        || fail "apt-get could not install ${packages[*]}"
}

configure() {
    if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        fail "$CONF belongs to another cluster; not overwriting it"
    fi
    local host node
    host=$(hostname -s)
    node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=.. Boards=.. SocketsPerBoard=.. CoresPerSocket=.. ThreadsPerCore=.. RealMemory=..
    mkdir -p "$STATE/ctld" "$STATE/d" /etc/slurm
    cat > "$CONF" <<EOF
$MARK
ClusterName=memcap
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
# A requeued job waits for its old credential to expire before it starts again: 5 s here, not 120.
AuthInfo=cred_expire=5
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Schedule every second, not every 30-60 s: a requeued job starts as soon as it may.
SchedulerParameters=sched_interval=1,bf_interval=1
# A cancelled job is killed 5 s after its SIGTERM (submitit ignores SIGTERM), not 30.
KillWait=5
$node State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    # munged: the key comes with the package; its run directory may not survive a container restart.
    [ -s /etc/munge/munge.key ] || mungekey --create
    mkdir -p /run/munge && chown munge:munge /run/munge
    running /run/munge/munged.pid || runuser -u munge -- munged
    running "$STATE/slurmctld.pid" || slurmctld -i
    running "$STATE/slurmd.pid" || slurmd
    for _ in $(seq 60); do
        node_idle && return
        sleep 0.5
    done
    fail "the node did not become idle in 30 s: $(sinfo -h -N -o '%t %E' 2>&1); logs in $STATE"
}

case "${1:-}" in
    up)
        [ "$(id -u)" = 0 ] || fail "needs root (it installs packages and starts system daemons)"
        node_idle && exit 0
        install
        configure
        start
        ;;
    down)
        grep -qsF "$MARK" "$CONF" || fail "$CONF is not this script's cluster; not stopping anything"
        for pidfile in "$STATE/slurmd.pid" "$STATE/slurmctld.pid" /run/munge/munged.pid; do
            [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
        done
        ;;
    *)
        fail "usage: $0 up|down"
        ;;
esac
