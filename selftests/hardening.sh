#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hardening: min_port, reply pairing, third-party addresses (loose), number
# checks, AUTH TLS, and the rate-limited refusal log.  Run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/hardening.sh
#
# Every case runs one control session between tools/ftpseg.py as client
# in cli and ftpseg.py as fake server in srv, through fw with the helper
# attached, and then asserts how fw's counters (/proc/net/nf_conntrack_ftp)
# moved and, with ctexpect, which expectation exists.  Expectations are
# flushed before each case.

source "$(dirname "$(readlink -f "$0")")/lib.sh"
source "$LIB_DIR/lib_seg.sh"

require_vm

PARAMS=/sys/module/nf_conntrack_ftp/parameters

cleanup()
{
	fake_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

# hard_run SERVER_ARGS -- CLIENT_ARGS: flush fw's expectations, snapshot
# the counters, run one session between a fresh fake server and the
# client.  Sets HARD_ERR to what failed, or to nothing.
hard_run()
{
	local -a sargs=()

	HARD_ERR=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	in_ns $FW_NS conntrack -F expect > /dev/null 2>&1
	stat_snap
	if ! fake_start $SRV_NS $SRV_IP4 --timeout 30 "${sargs[@]}"; then
		HARD_ERR="fake server did not start"
		return 1
	fi
	if ! seg_client --server $SRV_IP4 --timeout 6 "$@" > /dev/null; then
		HARD_ERR="client session failed"
		diag_file "$SEG_CLIENT_LOG" 8
		diag_file "$SEG_LOG_DIR/server.log" 8
	fi
	fake_stop
	[ -z "$HARD_ERR" ]
}

# check_refused NAME COUNTER [N]: after hard_run, COUNTER moved by N
# (default 1), no expectation was created and none exists.
check_refused()
{
	local name=$1 counter=$2 want=${3:-1} d c n

	if [ -n "$HARD_ERR" ]; then
		not_ok "$name" "$HARD_ERR"
		return 1
	fi
	d=$(stat_delta "$counter")
	c=$(stat_delta expectations_created)
	n=$(exp_count)
	if [ "$d" != "$want" ]; then
		not_ok "$name" "$counter moved by $d, want $want"
	elif [ "$c" != 0 ] || [ "$n" != 0 ]; then
		not_ok "$name" "expectations created $c, present $n, want none"
		exp_diag
	else
		ok "$name"
		return 0
	fi
	stat_diag
	return 1
}

# check_expected NAME PORT [DST]: after hard_run, one expectation was
# created and exists, to PORT (and to address DST, if given).
check_expected()
{
	local name=$1 port=$2 dst=${3:-} c n line

	if [ -n "$HARD_ERR" ]; then
		not_ok "$name" "$HARD_ERR"
		return 1
	fi
	c=$(stat_delta expectations_created)
	n=$(exp_count --dport "$port")
	line=$(exp_dump --dport "$port")
	if [ "$c" != 1 ] || [ "$n" != 1 ]; then
		not_ok "$name" "expectations created $c, present to port $port $n, want 1"
	elif [ -n "$dst" ] && [[ $line != *"->$dst:$port "* ]]; then
		not_ok "$name" "expectation not to $dst:$port"
	else
		ok "$name"
		return 0
	fi
	stat_diag
	exp_diag
	return 1
}

# kmsg_mark NAME: a mark in the kernel log for kmsg_count.
kmsg_mark()
{
	echo "hardening.sh: mark $1 $$" > /dev/kmsg
}

# kmsg_count NAME PATTERN: kernel log lines after kmsg_mark NAME that
# contain PATTERN (a fixed string).
kmsg_count()
{
	dmesg | awk -v mark="hardening.sh: mark $1 $$" \
		'index($0, mark) { on = 1; next } on' | grep -cF -- "$2"
}

# hexof TEXT: TEXT (printf escapes allowed) as hex.
hexof()
{
	printf "$1" | od -An -tx1 | tr -d ' \n'
}

# tls_record TYPE TEXT: a TLS record header of content TYPE (hex byte),
# version 3.3, with TEXT as its payload, in hex.
tls_record()
{
	local body

	body=$(hexof "$2")
	printf '%s0303%04x%s' "$1" $((${#body} / 2)) "$body"
}

ktap_plan 27
dmesg_mark

# =========================================================================
# Setup
# =========================================================================
check_cmd "setup: topology" topo_setup
check_cmd "setup: tools (ftpseg.py, ctexpect)" \
	eval "seg_tools_ready && __ftp_data"
if load_ours ""; then
	defaults="$(cat $PARAMS/min_port) $(cat $PARAMS/pairing) $(cat $PARAMS/loose)"
	check_eq "setup: modules loaded, min_port pairing loose" "$defaults" "1024 Y N"
else
	not_ok "setup: modules loaded, min_port pairing loose" "load_ours failed"
fi
check_cmd "setup: firewall, helper attached" \
	eval "fw_policy && fw_helper_attach"

# =========================================================================
# min_port
# =========================================================================
kmsg_mark min_port
hard_run --announce-port 22 -- --mode pasv --announce-only
check_refused "min_port: 227 announcing port 22 opens nothing" refused_low_port
msg="no expectation for 227 $SRV_IP4 port 22: data port below min_port"
if [ "$(kmsg_count min_port "$msg")" -ge 1 ]; then
	ok "min_port: the refusal is logged"
else
	not_ok "min_port: the refusal is logged" "no '$msg' in the kernel log"
fi

hard_run -- --mode port --data-port 1023 --announce-only
check_refused "min_port: PORT announcing port 1023 opens nothing" refused_low_port

echo 1 > $PARAMS/min_port
hard_run -- --mode port --data-port 1023 --announce-only
check_expected "min_port=1: PORT announcing port 1023 opens an expectation" 1023
hard_run --announce-port 22 -- --mode pasv --announce-only
check_expected "min_port=1: 227 announcing port 22 opens an expectation" 22
echo 1024 > $PARAMS/min_port

# =========================================================================
# Pairing: 227 only after PASV, 229 only after EPSV
# =========================================================================
hard_run --unsolicited 227 --data-port 20001 -- --mode none --pre NOOP
check_refused "pairing: 227 without PASV opens nothing" refused_unpaired
hard_run --unsolicited 229 --data-port 20002 -- --mode none --pre NOOP
check_refused "pairing: 229 without EPSV opens nothing" refused_unpaired
echo 0 > $PARAMS/pairing
hard_run --unsolicited 227 --data-port 20003 -- --mode none --pre NOOP
check_expected "pairing=0: 227 without PASV opens an expectation" 20003
echo 1 > $PARAMS/pairing

# =========================================================================
# Third-party addresses
# =========================================================================
hard_run -- --mode port --addr 203.0.113.9 --data-port 20004 --announce-only
check_refused "loose=0: PORT 203,0,113,9 opens nothing" refused_third_party
echo 1 > $PARAMS/loose
hard_run -- --mode port --addr 203.0.113.9 --data-port 20005 --announce-only
check_expected "loose=1: PORT 203,0,113,9 opens an expectation to it" \
	20005 203.0.113.9
echo 0 > $PARAMS/loose

# =========================================================================
# Numbers and families
# =========================================================================
hard_run -- --mode none --pre "PORT 192,0,2,256,4,1"
check_refused "PORT with an octet of 256 opens nothing" refused_bad_number
hard_run -- --mode none --pre "PORT 192,0,2,2,0,0"
check_refused "PORT with port 0 opens nothing" refused_bad_number
hard_run -- --mode none --pre "PORT 192,0,2,00000000000000000002,4,1"
check_refused "PORT with a 20 digit number opens nothing" refused_bad_number
hard_run -- --mode none --pre "EPRT |2|$CLI_IP6|20006|"
check_refused "EPRT |2| on an IPv4 connection opens nothing" refused_family

# =========================================================================
# AUTH TLS
# =========================================================================
# Two segments that look like TLS records (handshake, application data)
# with PORT lines inside, after a newline, as a parser would see them.
REC1=$(tls_record 16 '\001\000\000\006\r\nPORT 192,0,2,2,4,1\r\n')
REC2=$(tls_record 17 'x\r\nPORT 192,0,2,2,4,2\r\n')

# Control: in plain text, the PORT inside the first record is parsed.
hard_run -- --mode none --raw-hex "$REC1"
check_expected "control: a PORT inside a TLS-looking segment is parsed in plain text" 1025

hard_run --auth-tls -- --mode port --data-port 20007 --announce-only \
	--pre "AUTH TLS" --raw-hex "$REC1" --raw-hex "$REC2"
if [ -n "$HARD_ERR" ]; then
	not_ok "AUTH TLS answered by 234: tls_sessions +1" "$HARD_ERR"
	not_ok "TLS records skipped, the PORT lines inside open nothing" "$HARD_ERR"
	not_ok "plain text again (as after CCC): PORT opens an expectation" "$HARD_ERR"
else
	check_eq "AUTH TLS answered by 234: tls_sessions +1" \
		"$(stat_delta tls_sessions)" 1
	skipped=$(stat_delta tls_segments_skipped)
	n=$(($(exp_count --dport 1025) + $(exp_count --dport 1026)))
	if [ "$skipped" -ne 2 ] || [ "$n" -ne 0 ]; then
		not_ok "TLS records skipped, the PORT lines inside open nothing" \
			"tls_segments_skipped +$skipped (want 2), $n expectation(s) to 1025/1026"
		exp_diag
	else
		ok "TLS records skipped, the PORT lines inside open nothing"
	fi
	n=$(exp_count --dport 20007)
	check_eq "plain text again (as after CCC): PORT opens an expectation" "$n" 1
fi

# =========================================================================
# Memory: bounded per connection, capped per namespace
# =========================================================================
# A PORT line in two pieces 1.5 s apart: while its start is held,
# the namespace's buffer_bytes is what one connection with one held line
# takes (bookkeeping + one hold buffer), within the documented worst case
# of 4224 bytes per connection; once the line is complete, nothing.
mem_peak()	# mem_peak PID: the highest buffer_bytes while PID runs
{
	local n peak=0

	while kill -0 "$1" 2> /dev/null; do
		n=$(stat_get buffer_bytes)
		[ "${n:-0}" -gt $peak ] && peak=$n
		sleep 0.2
	done
	echo $peak
}
in_ns $FW_NS conntrack -F expect > /dev/null 2>&1
fake_start $SRV_NS $SRV_IP4 --timeout 30 > /dev/null 2>&1
stat_snap
seg_client --server $SRV_IP4 --timeout 20 --mode port --data-port 20010 \
	--announce-only --split 16 --gap-ms 1500 > /dev/null 2>&1 &
peak=$(mem_peak $!)
wait
fake_stop
after=$(stat_get buffer_bytes)
if [ "$peak" -le 0 ] || [ "$peak" -gt 4224 ] || [ "$after" -ne 0 ]; then
	not_ok "memory: one held line takes 1..4224 bytes, freed after" \
		"buffer_bytes peak $peak, after $after"
else
	ok "memory: one held line takes 1..4224 bytes, freed after ($peak)"
fi
# max_memory_kb=0: nothing can be held; the split line is missed (counted
# in alloc_failed), nothing is allocated, nothing opened by mistake.
echo 0 > $PARAMS/max_memory_kb
hard_run -- --mode port --data-port 20011 --announce-only --split 7
echo 4096 > $PARAMS/max_memory_kb
d=$(stat_delta alloc_failed)
n=$(exp_count --dport 20011)
if [ -n "$HARD_ERR" ]; then
	not_ok "max_memory_kb=0: a split PORT is refused memory, counted" "$HARD_ERR"
elif [ "$d" -lt 1 ] || [ "$n" -ne 0 ] || [ "$(stat_get buffer_bytes)" -ne 0 ]; then
	not_ok "max_memory_kb=0: a split PORT is refused memory, counted" \
		"alloc_failed +$d, expectations $n, buffer_bytes $(stat_get buffer_bytes)"
else
	ok "max_memory_kb=0: a split PORT is refused memory, counted"
fi

# =========================================================================
# Refusals are logged, rate-limited
# =========================================================================
sleep 5		# let net_ratelimit() recover from the cases above
kmsg_mark ratelimit
bad=()
for i in $(seq 50); do
	bad+=(--pre "PORT 192,0,2,256,4,$i")
done
hard_run -- --mode none "${bad[@]}"
d=$(stat_delta refused_bad_number)
n=$(kmsg_count ratelimit "no expectation for PORT")
if [ -n "$HARD_ERR" ]; then
	not_ok "50 refused PORTs: counted, logged rate-limited" "$HARD_ERR"
elif [ "$d" -ne 50 ]; then
	not_ok "50 refused PORTs: counted, logged rate-limited" \
		"refused_bad_number +$d, want 50"
elif [ "$n" -lt 1 ] || [ "$n" -gt 25 ]; then
	not_ok "50 refused PORTs: counted, logged rate-limited" \
		"$n log lines, want 1..25"
else
	ok "50 refused PORTs: counted, logged rate-limited ($n log lines)"
fi

# =========================================================================
# Teardown
# =========================================================================
topo_cleanup
check_cmd "helper: modules unloaded" unload_ours
check_dmesg "kernel log clean"

ktap_finished
