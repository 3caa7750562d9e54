#!/usr/bin/env bash
# A throw-away single-node Slurm cluster for the test suite (and for trying the Slurm executor
# on one machine), without systemd: munged, MariaDB + slurmdbd (so `sacct` works), slurmctld and
# slurmd, each started by this script so that it owns their PIDs. Debian 12 (Slurm 22.05), root.
#
#   scripts/slurm-cluster.sh install   apt-get the packages when missing (setup.sh calls this)
#   scripts/slurm-cluster.sh start     start every daemon that is not running; wait for the node
#   scripts/slurm-cluster.sh stop      stop what runs, by PID file (checked against the daemon name)
#   scripts/slurm-cluster.sh status
#
# Environment:
#   RDARTS_SLURM_CPUS=N    CPUs the node advertises (default: nproc); more than nproc oversubscribes
#   RDARTS_SLURM_CLEAN=1   on start: forget earlier jobs (controller state and accounting database)
#
# Facts this relies on (measured on this machine kind, see the project's slurm notes): apt starts
# no services here; /run/munge and /run/mysqld must be created; munged must run as the munge user;
# slurmdbd.conf must belong to SlurmUser with mode 600; without DefMemPerCPU every job takes the
# whole node's memory and jobs run one at a time; PID 1 reaps orphans late, so a zombie counts as
# dead; slurmctld leaves its PID file behind.
set -euo pipefail

HOST=$(hostname -s)
CPUS=${RDARTS_SLURM_CPUS:-$(nproc)}
MEM_MB=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 512 ))
STATE=/var/lib/slurm/slurmctld
SPOOL=/var/lib/slurm/slurmd
LOGS=/var/log/slurm
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)

say() { printf '[slurm-cluster] %s\n' "$*" >&2; }

# until CMD succeeds or SECONDS pass
poll() {
  local limit=$1; shift
  local deadline=$(( $(date +%s) + limit ))
  while ! "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
gone() { ! alive "$1"; }

# the PID in FILE runs and is the daemon NAME (a reused PID never gets signalled)
owned() {
  [ -s "$1" ] || return 1
  local pid; pid=$(cat "$1")
  alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

halt() {
  local name=$1 file=$2 pid
  if owned "$file" "$name"; then
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    poll 30 gone "$pid" || { say "$name ignored SIGTERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

cmd_install() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "the Slurm tests need: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    return 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_config() {
  install -d -o slurm -g slurm -m 0755 "$STATE" "$SPOOL" "$LOGS"
  cat > /etc/slurm/slurm.conf <<EOF
ClusterName=rdarts
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
# a requeued job waits out the credential lifetime before it may start again (default 120 s);
# short here, so the test suite's requeue runs through without a manual release
AuthInfo=cred_expire=10
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$(( MEM_MB / CPUS ))
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=${STATE}
SlurmdSpoolDir=${SPOOL}
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOGS}/slurmctld.log
SlurmdLogFile=${LOGS}/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=${LOGS}/jobcomp.log
MinJobAge=300
KillWait=5
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=/run/slurmdbd.pid
LogFile=${LOGS}/slurmdbd.log
EOF
  chown slurm:slurm /etc/slurm/slurmdbd.conf
  chmod 0600 /etc/slurm/slurmdbd.conf
}

munge_ok() { munge -n | unmunge; }
node_ready() { sinfo -h -n "$HOST" -o %T | grep -qxE 'idle|mixed|allocated|completing'; }

cmd_start() {
  local t0; t0=$(date +%s%N)
  write_config
  # munge
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  owned /run/munge/munged.pid munged || runuser -u munge -- /usr/sbin/munged
  poll 10 munge_ok || { say "munged does not answer"; exit 1; }
  # MariaDB for slurmdbd
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  if ! owned /run/mysqld/mysqld.pid mariadbd; then
    setsid /usr/sbin/mariadbd --user=mysql --skip-log-error </dev/null >>"$LOGS/mariadb.log" 2>&1 &
  fi
  poll 60 mariadb-admin ping || { say "MariaDB did not come up"; tail -n 20 "$LOGS/mariadb.log" >&2; exit 1; }
  if [ "${RDARTS_SLURM_CLEAN:-0}" = 1 ] && ! owned /run/slurmdbd.pid slurmdbd; then
    mariadb -e "DROP DATABASE IF EXISTS slurm_acct_db"
  fi
  mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  owned /run/slurmdbd.pid slurmdbd || /usr/sbin/slurmdbd
  poll 30 sacctmgr -n show cluster || { say "slurmdbd does not answer"; tail -n 20 "$LOGS/slurmdbd.log" >&2; exit 1; }
  # controller and node
  if [ "${RDARTS_SLURM_CLEAN:-0}" = 1 ] && ! owned /run/slurmctld.pid slurmctld; then rm -rf "${STATE:?}"/*; fi
  owned /run/slurmctld.pid slurmctld || /usr/sbin/slurmctld
  owned /run/slurmd.pid slurmd || /usr/sbin/slurmd
  if ! poll 30 node_ready; then
    scontrol update nodename="$HOST" state=resume 2>/dev/null || true
    poll 30 node_ready || { say "the node is not ready"; sinfo -R >&2; tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" >&2; exit 1; }
  fi
  say "cluster up in $(( ($(date +%s%N) - t0) / 1000000 )) ms ($CPUS CPUs, node $HOST)"
}

cmd_stop() {
  if owned /run/slurmctld.pid slurmctld; then scontrol shutdown >/dev/null 2>&1 || true; fi
  halt slurmd /run/slurmd.pid
  halt slurmctld /run/slurmctld.pid
  halt slurmdbd /run/slurmdbd.pid
  halt mariadbd /run/mysqld/mysqld.pid
  halt munged /run/munge/munged.pid
}

cmd_status() {
  local entry name file
  for entry in munged:/run/munge/munged.pid mariadbd:/run/mysqld/mysqld.pid slurmdbd:/run/slurmdbd.pid slurmctld:/run/slurmctld.pid slurmd:/run/slurmd.pid; do
    name=${entry%%:*} file=${entry#*:}
    if owned "$file" "$name"; then echo "$name running (pid $(cat "$file"))"; else echo "$name stopped"; fi
  done
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
