#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential test: the user-space harness and the module must not drift.
# Run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/differential.sh
#
# nf_ftp_parse.c is compiled into the module and into the user-space
# tests.  For every case of differential/lines.txt (a client line and the
# server's reply to it, in one control session), this compares
#
#  - the harness: unit/ftpparse, built here from the current sources
#    (make is a no-op when it is up to date), plays the session through the
#    parser with the module's default policy and prints EXPECT ADDR PORT,
#    REFUSE COUNTER or NONE;
#  - the module: tools/ftpline.py plays the same session between cli and
#    srv through fw, where the helper is attached.  The module's verdict
#    is EXPECT ADDR PORT when fw then has exactly one expectation (its
#    destination), REFUSE COUNTER when it has none and exactly one
#    refused_* counter of /proc/net/nf_conntrack_ftp moved, by one, and
#    NONE when nothing happened at all.  Anything else cannot equal a
#    harness verdict and fails.
#
# One ftpline.py client and one server play all the cases (batch mode),
# fed the case names through FIFOs: starting python for every case is
# slow under emulation.
#
# Expectations are flushed before every case; no data connection is made.
# At least MIN_EXPECT cases must agree on EXPECT and MIN_REFUSE on REFUSE,
# so that the test cannot pass on a table (or a setup) where nothing
# happens.
#
# Environment: DIFF_TABLE, another table in the same format.

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

if [ "$FTP_HELPER_IMPL" = kernel ]; then
	# The kernel's helper has no counters to read a refusal from.
	echo "# differential.sh tests our module only"
	exit $KSFT_SKIP
fi

TABLE=${DIFF_TABLE:-$LIB_DIR/differential/lines.txt}
FTPPARSE=$LIB_DIR/unit/ftpparse
FTPLINE=$LIB_DIR/tools/ftpline.py
CTEXPECT=$LIB_DIR/tools/ctexpect
WORK=/tmp/vmtest-differential
STATS=/proc/net/nf_conntrack_ftp
# Seconds a session may take (each side), under emulation too.
SESSION_TIMEOUT=20
# Seconds to wait for a side to report a case (or to start).
REPORT_TIMEOUT=$((2 * SESSION_TIMEOUT + 10))
MIN_EXPECT=8
MIN_REFUSE=8

SRV_PID=
CLI_PID=
DRIVERS=
DRIVERS_OK=

cleanup()
{
	drivers_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT
# A driver that died must not take the test with it: writing to its FIFO
# then fails instead.
trap '' PIPE

# The cases, in table order, the way ftpparse reads them.
declare -a NAME=() FAMILY=() CLIENT=() REPLY=() WANT=()

# read_table: fill NAME, FAMILY, CLIENT and REPLY from $TABLE.
read_table()
{
	local name family client reply

	while IFS=$'\t' read -r name family client reply; do
		case $name in
		'' | '#'*)	continue ;;
		esac
		NAME+=("$name")
		FAMILY+=("$family")
		CLIENT+=("$client")
		REPLY+=("$reply")
	done < "$TABLE"
}

# harness_verdicts: build ftpparse and fill WANT with its verdicts; the
# case names it prints must be the ones read_table found.
harness_verdicts()
{
	local out i name verdict

	run_logged make -s -C "$LIB_DIR/unit" ftpparse || return 1
	out=$("$FTPPARSE" -n -4 "$CLI_IP4,$SRV_IP4" -6 "$CLI_IP6,$SRV_IP6" \
		"$TABLE") || return 1
	i=0
	while IFS=$'\t' read -r name verdict; do
		if [ "$name" != "${NAME[$i]:-}" ]; then
			diag "ftpparse case $i is '$name', the table's '${NAME[$i]:-}'"
			return 1
		fi
		WANT[$i]=$verdict
		i=$((i + 1))
	done <<< "$out"
	if [ $i != ${#NAME[@]} ]; then
		diag "ftpparse gave $i verdicts for ${#NAME[@]} cases"
		return 1
	fi
}

# fw_setup: forward everything, attach the helper to port 21.
fw_setup()
{
	local ipt

	fw_reset
	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -P FORWARD ACCEPT &&
		in_ns $FW_NS $ipt -t raw -A PREROUTING -p tcp --dport $FTP_PORT \
			-j CT --helper ftp || return 1
	done
}

# drivers_start: ftpline.py in batch mode, server in srv (both families)
# and client in cli, each reading case names from a FIFO and reporting on
# another.  Fails unless both report that they are ready.
drivers_start()
{
	local fifo line

	for fifo in srv.in srv.out cli.in cli.out; do
		rm -f "$WORK/$fifo"
		mkfifo "$WORK/$fifo" || return 1
	done
	in_ns "$SRV_NS" python3 "$FTPLINE" server --listen "$SRV_IP4" \
		--listen "$SRV_IP6" --table "$TABLE" --timeout $SESSION_TIMEOUT \
		< "$WORK/srv.in" > "$WORK/srv.out" 2> "$WORK/server.log" &
	SRV_PID=$!
	in_ns "$CLI_NS" python3 "$FTPLINE" client --connect "$SRV_IP4" \
		--connect "$SRV_IP6" --table "$TABLE" --timeout $SESSION_TIMEOUT \
		< "$WORK/cli.in" > "$WORK/cli.out" 2> "$WORK/client.log" &
	CLI_PID=$!
	# Each open waits for the driver's side of the FIFO: keep this order.
	exec {SRV_IN}> "$WORK/srv.in" {SRV_OUT}< "$WORK/srv.out" \
	     {CLI_IN}> "$WORK/cli.in" {CLI_OUT}< "$WORK/cli.out"
	DRIVERS=1
	read -r -t $REPORT_TIMEOUT -u $SRV_OUT line && [ "$line" = ready ] &&
	read -r -t $REPORT_TIMEOUT -u $CLI_OUT line && [ "$line" = ready ] &&
	DRIVERS_OK=1
}

# drivers_stop: end of input for both drivers, and wait for them (every
# wait of theirs is bounded by SESSION_TIMEOUT).
drivers_stop()
{
	[ -n "$DRIVERS" ] || return 0
	exec {SRV_IN}>&- {CLI_IN}>&-
	wait "$SRV_PID" "$CLI_PID" 2> /dev/null
	exec {SRV_OUT}<&- {CLI_OUT}<&-
	DRIVERS=
	DRIVERS_OK=
}

# play NAME: the session of case NAME between cli and srv.  Fails if
# either side reports a failure (their logs are $WORK/client.log and
# $WORK/server.log) or does not report in time.
play()
{
	local name=$1 cres='' sres=''

	[ -n "$DRIVERS_OK" ] || return 1
	# A driver that does not report has lost step: no more cases.
	if ! echo "$name" >&"$SRV_IN" || ! echo "$name" >&"$CLI_IN" ||
	   ! read -r -t $REPORT_TIMEOUT -u "$CLI_OUT" cres ||
	   ! read -r -t $REPORT_TIMEOUT -u "$SRV_OUT" sres; then
		DRIVERS_OK=
		diag "ftpline.py no longer reports, giving up on the cases"
		return 1
	fi
	[ "$cres" = "$name ok" ] && [ "$sres" = "$name ok" ]
}

# fw_before: flush fw's expectations, save its counters in $WORK/before.
fw_before()
{
	in_ns "$FW_NS" sh -c 'conntrack -F expect > /dev/null 2>&1; cat "$1"' \
		sh "$STATS" > "$WORK/before" 2>&1
}

# fw_after: save fw's expectations (ctexpect dump) in $WORK/expect.log,
# ctexpect's status in $WORK/expect.rc and the counters in $WORK/after.
fw_after()
{
	in_ns "$FW_NS" sh -c '"$1" dump > "$2" 2>&1; echo $? > "$2.rc"; cat "$3"' \
		sh "$CTEXPECT" "$WORK/expect.log" "$STATS" > "$WORK/after" 2>&1
	mv -f "$WORK/expect.log.rc" "$WORK/expect.rc"
}

# module_verdict: what the module did in the case just played, from what
# fw_before and fw_after saved.
module_verdict()
{
	local exps nexp moved nmoved dst addr

	exps=$(cat "$WORK/expect.log")
	if [ "$(cat "$WORK/expect.rc")" != 0 ]; then
		echo "ERROR ctexpect: $exps"
		return
	fi
	nexp=$(grep -c '^expect ' <<< "$exps")
	moved=$(awk 'NR == FNR { was[$1] = $2; next }
		     $1 ~ /^refused_/ && $2 != was[$1] { print $1, $2 - was[$1] }' \
		"$WORK/before" "$WORK/after")
	nmoved=$(grep -c . <<< "$moved")
	if [ "$nexp" = 1 ] && [ "$nmoved" = 0 ]; then
		# expected=SRC:SPORT->DST:DPORT, IPv6 addresses in brackets
		dst=$(sed -n 's/.* expected=[^ ]*->\([^ ]*\) .*/\1/p' <<< "$exps")
		addr=${dst%:*}
		addr=${addr#[}
		addr=${addr%]}
		echo "EXPECT $addr ${dst##*:}"
	elif [ "$nexp" = 0 ] && [ "$nmoved" = 1 ] && [ "${moved#* }" = 1 ]; then
		echo "REFUSE ${moved% *}"
	elif [ "$nexp" = 0 ] && [ "$nmoved" = 0 ]; then
		echo NONE
	else
		echo "ODD $nexp expectations, refused counters moved: ${moved//$'\n'/, }"
	fi
}

# lines_seen: how much lines_examined moved in the case just played.
lines_seen()
{
	awk 'NR == FNR { was[$1] = $2; next }
	     $1 == "lines_examined" { print $2 - was[$1] }' \
		"$WORK/before" "$WORK/after"
}

# --- setup ---------------------------------------------------------------
mkdir -p "$WORK"
read_table
ktap_plan $((${#NAME[@]} + 8))
dmesg_mark

if [ ${#NAME[@]} -gt 0 ] && harness_verdicts; then
	ok "setup: harness verdicts for ${#NAME[@]} cases"
else
	not_ok "setup: harness verdicts for ${#NAME[@]} cases"
fi
if [ ! -x "$CTEXPECT" ]; then
	diag "building $CTEXPECT"
	make -C "$LIB_DIR/tools" > /dev/null 2>&1
fi
check_cmd "setup: ctexpect and python3" \
	bash -c "[ -x '$CTEXPECT' ] && python3 -c 'import socket'"
if topo_setup && topo_ping; then
	ok "setup: topology"
else
	not_ok "setup: topology"
fi
if helper_available && run_logged load_ours "" && fw_setup; then
	ok "setup: modules loaded ($FTP_HELPER_IMPL), helper attached in fw"
else
	not_ok "setup: modules loaded ($FTP_HELPER_IMPL), helper attached in fw"
fi
if drivers_start; then
	ok "setup: ftpline.py client and server"
else
	not_ok "setup: ftpline.py client and server"
	diag_file "$WORK/client.log" 5
	diag_file "$WORK/server.log" 5
fi

# --- the cases -----------------------------------------------------------
n_expect=0
n_refuse=0
for i in "${!NAME[@]}"; do
	name=${NAME[$i]}
	want=${WANT[$i]:-}
	fw_before
	play "$name"
	played=$?
	fw_after
	got=$(module_verdict)
	seen=$(lines_seen)

	if [ -z "$want" ]; then
		not_ok "differential: $name" "no harness verdict (module: $got)"
	elif [ $played != 0 ]; then
		not_ok "differential: $name" "session failed (module: $got)"
		diag_file "$WORK/client.log" 4
		diag_file "$WORK/server.log" 4
	elif [ "${seen:-0}" -lt 4 ]; then
		not_ok "differential: $name" "the helper saw ${seen:-no} lines"
	elif [ "$got" != "$want" ]; then
		not_ok "differential: $name" "harness '$want', module '$got'"
		diag "IPv${FAMILY[$i]} client: ${CLIENT[$i]}"
		diag "IPv${FAMILY[$i]} reply:  ${REPLY[$i]}"
		diag_file "$WORK/expect.log" 4
	else
		ok "differential: $name: $got"
		case $got in
		EXPECT*)	n_expect=$((n_expect + 1)) ;;
		REFUSE*)	n_refuse=$((n_refuse + 1)) ;;
		esac
	fi
done

# --- not vacuous -------------------------------------------------------
if [ $n_expect -ge $MIN_EXPECT ]; then
	ok "at least $MIN_EXPECT cases agree on EXPECT ($n_expect)"
else
	not_ok "at least $MIN_EXPECT cases agree on EXPECT" "only $n_expect"
fi
if [ $n_refuse -ge $MIN_REFUSE ]; then
	ok "at least $MIN_REFUSE cases agree on REFUSE ($n_refuse)"
else
	not_ok "at least $MIN_REFUSE cases agree on REFUSE" "only $n_refuse"
fi
drivers_stop
check_dmesg

ktap_finished
