#!/bin/sh
# Scale-out through a real Slurm.  The script starts a throwaway
# one-node cluster: munged, slurmctld and slurmd, all in a temporary
# folder and on ports of their own.  It runs the smoke suite as job
# arrays of tools/slurm/dembench-array.sbatch until "dembench plan"
# prints nothing, and checks that the summary is byte-identical to that
# of "dembench run".  Run it as root from any folder:
#
#   sh tools/slurm/test-slurm.sh
#
# It stops the daemons it started and removes its folder on exit, also
# after a failure or SIGINT/SIGTERM.  It reads neither /etc/slurm nor
# the system munged's key or socket, and stays off Slurm's default
# ports.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/tap.sh
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
PATH=$PATH:/usr/sbin:/sbin

for tool in munged mungekey slurmctld slurmd sbatch squeue sinfo; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool not found:" \
			"apt-get install slurm-wlm munge"
		exit 0
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP slurmd must run as root to start jobs"
	exit 0
fi

tmp=$(mktemp -d /tmp/dembench-slurm.XXXXXX) || exit 1
# munged rejects a socket in a folder that others cannot search.
chmod 755 "$tmp"
mkdir "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/jobs"
export SLURM_CONF="$tmp/slurm.conf"
socket=$tmp/munge/munge.socket
munged_pid=
slurmctld_pid=
slurmd_pid=
sbatch_pid=

# running PID: true while PID exists and is not a zombie.
running() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat")" != Z ]
}

stopped() {
	! running "$1"
}

# stop_daemon NAME PID: SIGTERM, then SIGKILL if it is still there 10 s
# later.
stop_daemon() {
	running "$2" || return 0
	kill -TERM "$2"
	if ! wait_until 10 stopped "$2"; then
		diag "$1 (pid $2) ignored SIGTERM for 10 s; sending SIGKILL"
		kill -KILL "$2"
	fi
	wait "$2" 2>/dev/null
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s until it
# succeeds or SECONDS pass.
wait_until() {
	ticks=$(($1 * 10))
	shift
	until "$@"; do
		[ $ticks -gt 0 ] || return 1
		sleep 0.1
		ticks=$((ticks - 1))
	done
}

no_jobs() {
	[ -z "$(squeue -h -o %A 2>/dev/null)" ]
}

# Each slurmstepd keeps a socket in SlurmdSpoolDir until it exits.
no_steps() {
	[ -z "$(find "$tmp/spool" -type s 2>/dev/null)" ]
}

# Cancels the jobs left by a failed check, then stops the daemons in
# reverse order.  It first waits for every slurmstepd to exit, because
# stopping slurmd does not stop them.
stop_cluster() {
	if running "$slurmctld_pid" && ! no_jobs; then
		# One argument per job id.
		# shellcheck disable=SC2046
		scancel $(squeue -h -o %A) 2>/dev/null
		wait_until 30 no_jobs || diag "jobs left after scancel"
	fi
	wait_until 30 no_steps || diag "slurmstepd still running"
	stop_daemon slurmd "$slurmd_pid"
	stop_daemon slurmctld "$slurmctld_pid"
	stop_daemon munged "$munged_pid"
}

cleanup() {
	stop_daemon "sbatch --wait" "$sbatch_pid"
	stop_cluster
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bail_out REASON LOG...: ends the test when the cluster cannot start.
bail_out() {
	reason=$1
	shift
	for log in "$@"; do
		diag "== $log" "$(tail -15 "$log")"
	done
	echo "Bail out! $reason"
	exit 1
}

# submit ARG...: "sbatch --wait ARG..." with a timeout.  It runs in the
# background because a trapped signal interrupts "wait" at once but
# must wait for a foreground command to end.
submit() {
	timeout 300 sbatch --wait "$@" >>"$tmp/log/sbatch.log" 2>&1 &
	sbatch_pid=$!
	wait "$sbatch_pid"
	submit_status=$?
	sbatch_pid=
	return $submit_status
}

node_idle() {
	[ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ]
}

# listening PORT: true if a TCP socket listens on PORT (state 0A in
# /proc/net/tcp).  /proc/net/tcp6 is missing where IPv6 is off.
listening() {
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v port=":$hex" '$4 == "0A" &&
			substr($2, length($2) - 4) == port { found = 1 }
			END { exit !found }'
}

# free_port FIRST: the first port from FIRST on that nothing listens on.
free_port() {
	port=$1
	while listening "$port"; do
		port=$((port + 1))
	done
	echo "$port"
}

plan 10

# The daemons run in the foreground, so that $! is their pid.  setsid
# gives them a session of their own, so that a Ctrl-C reaches only this
# script, and its cleanup() cancels the jobs before it stops them.
# setsid does not fork here, because without job control ("set -m") a
# background command does not lead a process group.

# Munge, with a key and a socket of its own.
mungekey --create --keyfile="$tmp/munge/munge.key" 2>"$tmp/log/mungekey.log"
setsid munged --foreground --socket="$socket" \
	--key-file="$tmp/munge/munge.key" \
	--pid-file="$tmp/munge/munged.pid" \
	--seed-file="$tmp/munge/munged.seed" \
	</dev/null >"$tmp/log/munged.log" 2>&1 &
munged_pid=$!
wait_until 10 test -S "$socket"
munge -n -S "$socket" 2>>"$tmp/log/munged.log" |
	unmunge -S "$socket" >/dev/null 2>>"$tmp/log/munged.log"
status=$?
ok $status "munged encodes and decodes a credential"
[ $status -eq 0 ] || bail_out "munged does not answer on $socket" \
	"$tmp/log/mungekey.log" "$tmp/log/munged.log"

# The node as slurmd detects it (CPUs, sockets, cores, memory), so that
# slurmctld does not drain it for a mismatch.
node_line=$(slurmd -C | head -n 1)
node=$(echo "$node_line" | sed -n 's/^NodeName=\([^ ]*\) .*/\1/p')
[ -n "$node" ] || bail_out "slurmd -C printed no NodeName: $node_line"

# Ports from a per-process offset, so that two copies of this test
# rarely pick the same pair.  Slurm's default ports, 6817 and 6818, stay
# free for a real Slurm.
ctld_port=$(free_port $((20000 + $$ % 5000 * 2)))
slurmd_port=$(free_port $((ctld_port + 1)))
: > "$tmp/plugstack.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=dembenchtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
# Start array tasks on the next scheduler pass (1 s), not after 3 s.
SchedulerParameters=batch_sched_delay=0
# sbatch --wait (src/sbatch/sbatch.c in Slurm 22.05) polls every 2 s
# if MinJobAge is below 6 s.  With the default of 300 s the sleeps grow
# to 2, 8 and 32 s (a pass of 24 s of tasks returned after 42 s).
# slurmctld keeps a finished job's record for at least MinJobAge
# seconds, so with 4 s the next poll still finds the exit code of the
# last task.
MinJobAge=4
# scancel in cleanup() sends SIGKILL 5 s after SIGTERM, not 30 s.
KillWait=5
ReturnToService=2
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

setsid slurmctld -D -f "$SLURM_CONF" \
	</dev/null >"$tmp/log/slurmctld.out" 2>&1 &
slurmctld_pid=$!
setsid slurmd -D -N "$node" -f "$SLURM_CONF" \
	</dev/null >"$tmp/log/slurmd.out" 2>&1 &
slurmd_pid=$!
wait_until 30 node_idle
status=$?
ok $status "slurmctld and slurmd start and the node is idle"
if [ $status -ne 0 ]; then
	state=$(sinfo -h -n "$node" -o '%t %E' 2>&1)
	bail_out "node $node is not idle after 30 s: $state" \
		"$tmp/log/slurmctld.out" "$tmp/log/slurmd.out"
fi

# The reference: the same suite through "dembench run".
sed "s|build/smoke.h5|$tmp/data.h5|" suites/smoke.ini > "$tmp/suite.ini"
"$build"/synth --out "$tmp/data.h5" --n 1000 2>"$tmp/log/dembench.log" &&
	$dembench run "$tmp/suite.ini" --out "$tmp/run" \
		2>>"$tmp/log/dembench.log" &&
	$dembench report "$tmp/run" 2>>"$tmp/log/dembench.log"
status=$?
ok $status "synth and dembench run finish the suite"
[ $status -eq 0 ] || diag "$(tail -5 "$tmp/log/dembench.log")"

# Each pass submits the plan as one array and waits for all its tasks.
# The dem* phases need three passes.
passes=0
failed=0
tasks=0
while [ $passes -lt 5 ]; do
	$dembench plan "$tmp/suite.ini" --out "$tmp/slurm" > "$tmp/plan" \
		2>>"$tmp/log/dembench.log" || break
	[ -s "$tmp/plan" ] || break
	count=$(wc -l < "$tmp/plan")
	if ! submit --parsable --array=1-"$count" \
		--output="$tmp/jobs/%A_%a.log" \
		tools/slurm/dembench-array.sbatch "$tmp/plan"; then
		failed=$((failed + 1))
		break
	fi
	passes=$((passes + 1))
	tasks=$((tasks + count))
done
[ $passes -eq 3 ]
ok $? "plan and sbatch --wait finish the suite in three passes"
[ $passes -eq 3 ] ||
	diag "passes: $passes" "$(tail -5 "$tmp/log/dembench.log")"
[ $failed -eq 0 ]
ok $? "sbatch --wait exits 0 after every pass"
[ $failed -eq 0 ] || diag "$(tail -5 "$tmp/log/sbatch.log")"

[ "$(ls "$tmp/jobs" | wc -l)" -eq "$tasks" ]
ok $? "each of the $tasks array tasks wrote its log"

$dembench report "$tmp/slurm" 2>>"$tmp/log/dembench.log"
cmp "$tmp/run/summary.csv" "$tmp/slurm/summary.csv" >/dev/null 2>&1
ok $? "the summary is byte-identical to dembench run"

# A failing task must fail the array.  Line 1 exits with 3, and task 2
# has no line, so the sbatch script exits with 2.  sbatch --wait
# returns the highest exit code of the tasks.
echo "exit 3" > "$tmp/bad-plan"
submit --array=1-2 --output="$tmp/jobs/bad-%a.log" \
	tools/slurm/dembench-array.sbatch "$tmp/bad-plan"
status=$?
[ $status -eq 3 ]
ok $? "a failing task makes sbatch --wait fail"
[ $status -eq 3 ] || diag "sbatch --wait exited with $status, expected 3"
grep -q "has no line 2" "$tmp/jobs/bad-2.log"
ok $? "a task past the end of the plan names the missing line"

# The daemons stop on SIGTERM.  cleanup() repeats this on any exit.
stop_cluster
no_steps && stopped "$slurmd_pid" && stopped "$slurmctld_pid" &&
	stopped "$munged_pid"
ok $? "slurmd, slurmctld, munged and every slurmstepd stop"

finish
