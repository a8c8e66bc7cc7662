#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stress: many concurrent FTP sessions through fw while the helper is
# disturbed in every way the kernel allows, then checks that nothing was
# corrupted, nothing leaked and nothing is stuck.  Meant for the debug
# kernel of make check-debug (KASAN, lockdep, kmemleak, PREEMPT_RT), where
# the races become reports; it runs on the Debian kernels too.  Not part of
# make check (too long):
#
#	selftests/vm/run-vm.sh -- selftests/debug/stress.sh
#
# Load: STRESS_WORKERS (default 4) loops, each running one session after
# the other: curl against vsftpd in both directions (cli -> srv and
# srv -> cli, a vsftpd in each), PASV, EPSV, PORT and EPRT, IPv4 and IPv6,
# and ftpseg.py clients whose PORT/EPRT line is cut across TCP segments.
# Two phases (default 90 s of storm in all): "plain" (no NAT) and "snat"
# (masquerade on both of fw's interfaces, IPv4 and IPv6).  Each is a storm
# of STRESS_SECONDS/2 with the disturbances below, then a calm (the
# disturbances stopped and undone) while the sessions go on until every
# kind had a success.
#
# Disturbances, in fw, in background loops during the load:
#  - conntrack -D of the control connections (port 21), both families;
#  - conntrack -F;
#  - helper detach through ctnetlink (tools/cthelper: empty helper name);
#  - the raw CT --helper rules deleted and added back;
#  - rmmod nf_nat_ftp + nf_conntrack_ftp and insmod again (the CT rules
#    hold the helper, so: rules out, rmmod, insmod, rules back in);
#  - netem loss on both of fw's interfaces.
#
# Checks: every completed transfer is intact (sha256); every command line
# the four vsftpds received is whole and well formed (no head lost, no
# piece twice, a PORT/EPRT address either the client's or fw's); in every phase
# each direction, family and kind (active, passive, split) had at least
# one success, in the storm or the calm after it (failures while the
# helper is out are expected and counted); every disturbance ran; every reload worked; after the load,
# deleting the control entries leaves no expectation; a clean round of
# every case succeeds and leaves no expectation; the helper's own buffer
# accounting (buffer_bytes) is back to 0; the modules unload; kmemleak
# (when the kernel has it) and the kernel log are clean.  The kernel's
# unreclaimable slab before and after is printed, not checked (the
# conntrack tables, netns teardown and KASAN's quarantine move it).

source "$(dirname "$(readlink -f "$0")")/../lib.sh"
source "$LIB_DIR/lib_seg.sh"

require_vm

STRESS_SECONDS=${STRESS_SECONDS:-90}
STRESS_WORKERS=${STRESS_WORKERS:-4}
W=/tmp/vmtest-stress
REV_DIR=$W/rev
CTHELPER=$LIB_DIR/tools/cthelper
CT_KO=$FTP_HELPER_BUILD_DIR/nf_conntrack_ftp.ko
NAT_KO=$FTP_HELPER_BUILD_DIR/nf_nat_ftp.ko
KMEMLEAK=/sys/kernel/debug/kmemleak
PHASES="plain snat"

# Every session kind: DIR:MODE:FAMILY.  fwd: cli is the client and srv
# the server; rev: the other way round; seg: ftpseg.py in cli, its data
# command cut across segments, against vsftpd in srv.
CASES="fwd:pasv:v4 fwd:epsv:v4 fwd:epsv:v6 fwd:port:v4 fwd:eprt:v4 fwd:eprt:v6
rev:pasv:v4 rev:epsv:v4 rev:epsv:v6 rev:port:v4 rev:eprt:v4 rev:eprt:v6
seg:port:v4 seg:eprt:v6"

NTESTS=14

cleanup()
{
	touch "$W/stop" 2> /dev/null
	wait ${LOOP_PIDS:-} ${WORKER_PIDS:-} 2> /dev/null
	ftpd_stop
	(FTP_STATE_DIR=$REV_DIR; ftpd_stop)
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

ktap_plan $NTESTS

if ! helper_available || [ ! -x "$CTHELPER" ] || [ ! -x "$CTEXPECT" ]; then
	why=$(helper_unavailable_reason)
	helper_available && why="missing $CTHELPER or $CTEXPECT (make -C selftests/tools)"
	for i in $(seq $NTESTS); do
		skip "stress $i" "$why"
	done
	ktap_finished
fi

rm -rf "$W"
mkdir -p "$W" "$REV_DIR"
: > "$W/results"
dmesg_mark
sunreclaim0=$(awk '$1 == "SUnreclaim:" { print $2 }' /proc/meminfo)
if [ -w $KMEMLEAK ]; then
	echo scan > $KMEMLEAK
	echo clear > $KMEMLEAK
fi

# =========================================================================
# Sessions
# =========================================================================

# want_sha DIR: the sha256 of the file that DIR's server serves.
want_sha()
{
	case $1 in
	rev)	cat "$REV_DIR/sha256" ;;
	*)	ftp_expected_sha256 ;;
	esac
}

# session PHASE DIR:MODE:FAMILY: one download; appends
# "PHASE CASE ok|fail|corrupt BYTES|STATUS" to $W/results.
session()
{
	local phase=$1 c=$2 dir mode fam ns srv4 srv6 me4 me6 host me
	local out rc sha want verdict window
	local -a flags

	IFS=: read -r dir mode fam <<< "$c"
	ns=$CLI_NS; srv4=$SRV_IP4; srv6=$SRV_IP6; me4=$CLI_IP4; me6=$CLI_IP6
	if [ "$dir" = rev ]; then
		ns=$SRV_NS; srv4=$CLI_IP4; srv6=$CLI_IP6; me4=$SRV_IP4; me6=$SRV_IP6
	fi
	if [ "$fam" = v4 ]; then host=$srv4; me=$me4; else host="[$srv6]"; me=$me6; fi
	want=$(want_sha "$dir")
	out=$(mktemp "$W/dl.XXXXXX")

	if [ "$dir" = seg ]; then
		[ "$fam" = v6 ] && host=$srv6
		sha=$(timeout 90 ip netns exec "$ns" "$PYTHON" "$FTPSEG" client \
			--server "$host" --mode "$mode" --split 2,7,13 \
			--timeout 15 --data-timeout 15 2> /dev/null)
		rc=$?
		sha=${sha#sha256 }
		[ $rc = 0 ] && head -c $((FTP_FILE_KIB * 1024)) /dev/zero > "$out"
	else
		case $mode in
		pasv)	flags=(--ftp-pasv --disable-epsv --no-ftp-skip-pasv-ip) ;;
		epsv)	flags=(--ftp-pasv) ;;
		port)	flags=(--ftp-port "$me" --disable-eprt) ;;
		eprt)	flags=(--ftp-port "$me") ;;
		esac
		timeout 90 ip netns exec "$ns" curl --silent --globoff \
			--max-time "$FTP_MAX_TIME" --connect-timeout 5 \
			"${flags[@]}" --output "$out" \
			"ftp://$host:$FTP_PORT/$FTP_FILE" 2> /dev/null
		rc=$?
		[ $rc = 0 ] && sha=$(sha256sum "$out" | cut -d' ' -f1)
	fi
	if [ $rc != 0 ]; then
		verdict="fail $rc"
	elif [ "$sha" = "$want" ]; then
		verdict="ok $(stat -c %s "$out")"
	else
		verdict="corrupt $sha"
	fi
	rm -f "$out"
	window=storm
	[ -e "$W/calm" ] && window=calm
	echo "$phase $c $verdict $window" >> "$W/results"
}

# worker N PHASE: sessions until the phase ends, each worker starting at
# another case.
worker()
{
	local phase=$2 i=$1
	local -a cases

	read -r -a cases <<< "$(echo $CASES)"
	while [ ! -e "$W/stop" ]; do
		if [ -e "$W/calm" ] && c=$(missing_case "$phase" "$i"); then
			session "$phase" "$c"
		else
			session "$phase" "${cases[$((i % ${#cases[@]}))]}"
		fi
		i=$((i + 1))
	done
}

# =========================================================================
# Disturbances
# =========================================================================

count()		# count KIND: one more disturbance of KIND
{
	echo >> "$W/count.$1"
}

nap()		# nap SECONDS: sleep, but wake up when the storm ends
{
	local i

	for i in $(seq "$1"); do
		[ -e "$W/stop" ] || [ -e "$W/calm" ] && return 1
		sleep 1
	done
}

# The raw rules are taken out by two loops: one at a time.
with_rules_lock()
{
	( flock 8 && "$@" ) 8> "$W/rules.lock"
}

rules_out()
{
	fw_helper_detach
}

rules_in()
{
	fw_helper_attach
}

loop_ctdel()
{
	while nap 3; do
		in_ns $FW_NS conntrack -D -f ipv4 -p tcp --orig-port-dst $FTP_PORT > /dev/null 2>&1
		in_ns $FW_NS conntrack -D -f ipv6 -p tcp --orig-port-dst $FTP_PORT > /dev/null 2>&1
		count ctdel
	done
}

loop_flush()
{
	while nap 15; do
		in_ns $FW_NS conntrack -F > /dev/null 2>&1
		in_ns $FW_NS conntrack -F -f ipv6 > /dev/null 2>&1
		count flush
	done
}

loop_ctnl_detach()
{
	while nap 3; do
		in_ns $FW_NS "$CTHELPER" detach > /dev/null 2>&1 && count ctnl_detach
	done
}

rule_cycle()
{
	rules_out || return 1
	sleep 1
	rules_in
}

loop_rule_detach()
{
	while nap 5; do
		if with_rules_lock rule_cycle; then
			count rule_detach
		else
			count rule_error
		fi
	done
}

# reload: rules out, both modules out, in again, rules back.
reload()
{
	local i

	echo "reload $(date +%T)"
	rules_out || return 1
	for i in $(seq 100); do
		rmmod nf_nat_ftp 2> /dev/null
		[ -d /sys/module/nf_nat_ftp ] || break
		sleep 0.1
	done
	for i in $(seq 100); do
		rmmod nf_conntrack_ftp 2> /dev/null
		[ -d /sys/module/nf_conntrack_ftp ] || break
		sleep 0.1
	done
	if [ -d /sys/module/nf_conntrack_ftp ] || [ -d /sys/module/nf_nat_ftp ]; then
		echo "reload: cannot unload: $(grep -E '^nf_(nat|conntrack)_ftp ' /proc/modules)"
		insmod "$CT_KO" 2> /dev/null
		insmod "$NAT_KO" 2> /dev/null
		rules_in
		return 1
	fi
	sleep 1
	insmod "$CT_KO" || return 2
	insmod "$NAT_KO" || return 2
	rules_in || return 2
}

loop_reload()
{
	local rc

	while nap 7; do
		with_rules_lock reload >> "$W/reload.log" 2>&1
		rc=$?
		case $rc in
		0)	count reload ;;
		1)	count reload_busy ;;
		*)	count reload_error ;;
		esac
	done
}

loop_netem()
{
	local dev

	while nap 4; do
		for dev in $FW_CLI_IF $FW_SRV_IF; do
			in_ns $FW_NS tc qdisc replace dev $dev root netem loss 4%
		done
		count netem
		nap 3
		for dev in $FW_CLI_IF $FW_SRV_IF; do
			in_ns $FW_NS tc qdisc del dev $dev root 2> /dev/null
		done
	done
}

DISTURBANCES="ctdel flush ctnl_detach rule_detach reload netem"

# =========================================================================
# Setup
# =========================================================================

setup()
{
	topo_setup &&
	load_ours "" &&
	fw_policy && fw_helper_attach &&
	ftpd_start $FTP_PORT v4 && ftpd_start $FTP_PORT v6 &&
	in_ns $CLI_NS sysctl -qw net.ipv6.bindv6only=1 &&
	(
		# The reverse server: vsftpd in cli, with its own file.
		SRV_NS=$CLI_NS
		FTP_STATE_DIR=$REV_DIR
		FTP_ROOT=$REV_DIR/root
		ftpd_start $FTP_PORT v4 && ftpd_start $FTP_PORT v6
	)
}

snat_rules()	# snat_rules -A|-D
{
	local ipt dev

	for ipt in iptables ip6tables; do
		for dev in $FW_CLI_IF $FW_SRV_IF; do
			in_ns $FW_NS $ipt -t nat "$1" POSTROUTING -o $dev \
				-j MASQUERADE || return 1
		done
	done
}

check_cmd "setup: topology, modules, firewall, vsftpd both ways" setup

# =========================================================================
# Load
# =========================================================================

KINDS="fwd:passive:v4 fwd:passive:v6 fwd:active:v4 fwd:active:v6
rev:passive:v4 rev:passive:v6 rev:active:v4 rev:active:v6
seg:active:v4 seg:active:v6"

# missing_kinds PHASE: the kinds without an intact transfer in PHASE yet.
missing_kinds()
{
	local k dir kind fam modes

	for k in $KINDS; do
		IFS=: read -r dir kind fam <<< "$k"
		if [ $kind = passive ]; then modes='(pasv|epsv)'; else modes='(port|eprt)'; fi
		grep -q -E "^$1 $dir:$modes:$fam ok " "$W/results" || echo -n " $k"
	done
}

# progress PHASE SECONDS: one line of what happened so far.
progress()
{
	local d line=

	for d in $DISTURBANCES; do
		line="$line $d=$(cat "$W/count.$d" 2> /dev/null | wc -l)"
	done
	diag "$1 ${2}s: $(grep -c "^$1 .* ok " "$W/results")/$(grep -c "^$1 " "$W/results") sessions ok;$line"
}

# restore: after the storm, netem off, both modules in, the rules in.
restore()
{
	local dev m name

	for dev in $FW_CLI_IF $FW_SRV_IF; do
		in_ns $FW_NS tc qdisc del dev $dev root 2> /dev/null
	done
	# A reload cut short would leave the helper out.
	for m in "$CT_KO" "$NAT_KO"; do
		name=$(basename "$m" .ko)
		[ -d /sys/module/$name ] || insmod "$m" || diag "cannot insmod $m"
	done
	in_ns $FW_NS iptables -t raw -C PREROUTING -p tcp --dport $FTP_PORT \
		-j CT --helper ftp 2> /dev/null || fw_helper_attach ||
		diag "cannot attach the helper again"
}

# missing_case PHASE N: a case of the N-th (modulo) kind still missing
# in PHASE; fails if none is.
missing_case()
{
	local -a m
	local dir kind fam mode

	read -r -a m <<< "$(missing_kinds "$1")"
	[ ${#m[@]} -gt 0 ] || return 1
	IFS=: read -r dir kind fam <<< "${m[$(($2 % ${#m[@]}))]}"
	case $kind:$fam in
	passive:v4)	mode=pasv ;;
	passive:v6)	mode=epsv ;;
	active:v4)	mode=port ;;
	active:v6)	mode=eprt ;;
	esac
	echo "$dir:$mode:$fam"
}

phase_secs=$((STRESS_SECONDS / 2))
[ $phase_secs -ge 5 ] || phase_secs=5
for phase in $PHASES; do
	fw_flush_conntrack
	[ $phase = snat ] && { snat_rules -A || diag "SNAT rules failed"; }
	rm -f "$W/stop" "$W/calm"
	WORKER_PIDS=
	LOOP_PIDS=
	for i in $(seq "$STRESS_WORKERS"); do
		worker "$i" "$phase" &
		WORKER_PIDS="$WORKER_PIDS $!"
	done
	for d in $DISTURBANCES; do
		loop_$d &
		LOOP_PIDS="$LOOP_PIDS $!"
	done
	# The storm: phase_secs of sessions and disturbances.  Then the calm:
	# the disturbances stop, everything is put back, and the sessions go
	# on until every kind had a success, the missing kinds first, so
	# that a slow kernel, where hardly a session outlives the storm,
	# still shows the helper working in every configuration.
	t0=$(date +%s)
	while :; do
		sleep 5
		t=$(( $(date +%s) - t0 ))
		progress $phase $t
		[ $t -ge $phase_secs ] && break
	done
	touch "$W/calm"
	# The calm ends when every kind succeeded, at the latest after
	# 2 * phase_secs or 5 minutes, whichever is longer.
	calm_max=$((t + 2 * phase_secs))
	[ $calm_max -ge $((t + 300)) ] || calm_max=$((t + 300))
	wait $LOOP_PIDS
	restore
	diag "phase $phase: storm over, calm"
	LOOP_PIDS=$WORKER_PIDS
	while :; do
		sleep 5
		t=$(( $(date +%s) - t0 ))
		progress $phase $t
		[ -z "$(missing_kinds $phase)" ] && break
		[ $t -ge $calm_max ] && break
	done
	touch "$W/stop"
	wait $WORKER_PIDS
	LOOP_PIDS=
	diag "phase $phase: $(grep -c "^$phase .* ok .* storm$" "$W/results") of $(grep -c "^$phase .* storm$" "$W/results") sessions in the storm and $(grep -c "^$phase .* ok .* calm$" "$W/results") of $(grep -c "^$phase .* calm$" "$W/results") in the calm succeeded"
done

[ -s "$W/reload.log" ] && diag_file "$W/reload.log" 10

# --- counts --------------------------------------------------------------
nruns=$(wc -l < "$W/results")
nok=$(grep -c ' ok ' "$W/results")
ncorrupt=$(grep -c ' corrupt ' "$W/results")
bytes=$(awk '$3 == "ok" { s += $4 } END { print s + 0 }' "$W/results")
diag "sessions: $nruns run, $nok succeeded, $ncorrupt corrupted, $bytes bytes checked"
for c in $CASES; do
	diag "  $c: $(grep -c " $c ok " "$W/results")/$(grep -c " $c " "$W/results") ok"
done
counts=
for d in $DISTURBANCES rule_error reload_busy reload_error; do
	n=$(cat "$W/count.$d" 2> /dev/null | wc -l)
	counts="$counts $d=$n"
done
diag "disturbances:$counts"

check_eq "no transfer corrupted ($nok intact, $bytes bytes)" "$ncorrupt" 0

# Every phase, direction, family and kind had a success.
for phase in $PHASES; do
	missing=$(missing_kinds $phase)
	if [ -z "$missing" ]; then
		ok "$phase: every direction, family and mode had intact transfers"
	else
		not_ok "$phase: every direction, family and mode had intact transfers" \
			"none for$missing"
	fi
done

missing=
for d in $DISTURBANCES; do
	[ -s "$W/count.$d" ] || missing="$missing $d"
done
check_eq "every disturbance ran (missing:${missing:- none})" "${missing:-none}" none
check_eq "every module reload worked (errors)" \
	"$(cat "$W/count.reload_error" 2> /dev/null | wc -l)" 0

# --- after the load --------------------------------------------------------
# Deleting the masters must take every expectation with it.
in_ns $FW_NS conntrack -D -f ipv4 -p tcp --orig-port-dst $FTP_PORT > /dev/null 2>&1
in_ns $FW_NS conntrack -D -f ipv6 -p tcp --orig-port-dst $FTP_PORT > /dev/null 2>&1
left=$(exp_count)
check_eq "no expectation outlives the control connections" "$left" 0
[ "$left" != 0 ] && in_ns $FW_NS "$CTEXPECT" dump | head -5 | sed 's/^/#   /'

# The helper's held bytes (lines held back for NAT) are freed with their
# conntracks: buffer_bytes, the accounting behind nf_ftp_mem_max, is 0.
for i in $(seq 50); do
	held=$(stat_get buffer_bytes)
	[ "$held" = 0 ] && break
	sleep 0.2
done
check_eq "no held buffer outlives the control connections (buffer_bytes)" "${held:-none}" 0

# A clean round: every case once (a second try if it fails), all must work.
failed_cases=
for c in $CASES; do
	session clean "$c"
	# A transfer can time out on a slow machine: a case fails twice.
	tail -n 1 "$W/results" | grep -q ' ok ' || session clean "$c"
	tail -n 1 "$W/results" | grep -q ' ok ' || failed_cases="$failed_cases $c"
done
check_eq "after the stress every case works again (failed:${failed_cases:- none})" \
	"${failed_cases:-none}" none
sleep 1
check_eq "the clean round left no expectation" "$(exp_count)" 0

# --- what the servers received ---------------------------------------------
# Every command line that reached a vsftpd, from its protocol log.  A
# line whose head was lost, held twice or cut wrong does not match: the
# verbs the clients send, with whole arguments; PORT and EPRT with the
# address of the client (unrewritten) or of fw (SNAT), and a port.
server_lines()
{
	sed -n 's/.*FTP command: Client "[^"]*", "\(.*\)"$/\1/p' \
		"$FTP_STATE_DIR"/vsftpd-$FTP_PORT-v[46].log \
		"$REV_DIR"/vsftpd-$FTP_PORT-v[46].log
}

P='[0-9]{1,3}'
# alt SEP ADDR...: the IPv4 addresses as one alternation, dots as SEP.
alt()
{
	local sep=$1 out= a

	shift
	for a; do out="$out${a//./$sep}|"; done
	echo "(${out%|})"
}
addr4=$(alt , $CLI_IP4 $SRV_IP4 $FW_CLI_IP4 $FW_SRV_IP4)
eprt4=$(alt '\.' $CLI_IP4 $SRV_IP4 $FW_CLI_IP4 $FW_SRV_IP4)
addr6="($CLI_IP6|$SRV_IP6|$FW_CLI_IP6|$FW_SRV_IP6)"
fw_addr="($(alt , $FW_CLI_IP4 $FW_SRV_IP4)|$(alt '\.' $FW_CLI_IP4 $FW_SRV_IP4)|$FW_CLI_IP6|$FW_SRV_IP6)"
line_re="^((USER|PASS|PWD|CWD|TYPE|SIZE|MDTM|REST|RETR|SYST|FEAT|OPTS|NOOP|QUIT|EPSV|PASV)( [ -~]+)?"
line_re+="|PORT $addr4,$P,$P|EPRT \|1\|$eprt4\|[0-9]{1,5}\||EPRT \|2\|$addr6\|[0-9]{1,5}\|)\$"
server_lines > "$W/server-lines"
nlines=$(wc -l < "$W/server-lines")
ndata=$(grep -c -E '^(PORT|EPRT) ' "$W/server-lines")
nnat=$(grep -E '^(PORT|EPRT) ' "$W/server-lines" | grep -c -E "$fw_addr")
grep -v -E "$line_re" "$W/server-lines" > "$W/server-bad"
diag "server lines: $nlines received, $ndata PORT/EPRT ($nnat with fw's address)"
if [ "$nlines" -gt 0 ] && [ "$nnat" -gt 0 ] && [ ! -s "$W/server-bad" ]; then
	ok "every line the servers received is whole and well formed"
else
	not_ok "every line the servers received is whole and well formed" \
		"$(wc -l < "$W/server-bad") bad of $nlines, $nnat rewritten PORT/EPRT"
	sort "$W/server-bad" | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /'
fi

# --- teardown ----------------------------------------------------------------
ftpd_stop
(FTP_STATE_DIR=$REV_DIR; ftpd_stop)
fw_helper_detach
topo_cleanup
unloaded=1
for i in $(seq 300); do
	rmmod nf_nat_ftp 2> /dev/null
	rmmod nf_conntrack_ftp 2> /dev/null
	[ -d /sys/module/nf_nat_ftp ] || [ -d /sys/module/nf_conntrack_ftp ] || { unloaded=0; break; }
	sleep 0.1
done
if [ $unloaded = 0 ]; then
	ok "both modules unload after the stress"
else
	not_ok "both modules unload after the stress" \
		"$(grep -E '^nf_(nat|conntrack)_ftp ' /proc/modules | tr '\n' ' ')"
fi

if [ -w $KMEMLEAK ]; then
	echo scan > $KMEMLEAK
	sleep 6
	echo scan > $KMEMLEAK
	if grep -q 'unreferenced object' $KMEMLEAK; then
		not_ok "kmemleak finds nothing" "$(grep -c 'unreferenced object' $KMEMLEAK) objects"
		head -n 30 $KMEMLEAK | sed 's/^/#   /'
	else
		ok "kmemleak finds nothing"
	fi
else
	skip "kmemleak finds nothing" "no $KMEMLEAK in this kernel"
fi
sunreclaim1=$(awk '$1 == "SUnreclaim:" { print $2 }' /proc/meminfo)
diag "unreclaimable slab: $sunreclaim0 kB before, $sunreclaim1 kB after (not checked)"
check_dmesg "kernel log clean"
ktap_finished
