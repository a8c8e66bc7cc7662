#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Segmentation-proof parsing: PORT, EPRT, 227 and 229 lines cut into
# several TCP segments (inside the verb, inside the numbers, one byte per
# segment) still open the data connection, plain and under NAT.  Run it in
# the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/segment.sh
#
# fw drops every forwarded packet except replies, RELATED connections and
# new connections to port 21, so a data connection gets through only if
# the helper set up its expectation.  The first cases show that: without
# the helper attached the same transfers fail.  Every transfer is checked
# by the sha256 of the data.
#
# tools/ftpseg.py does the cutting: as client in cli (against vsftpd, or
# the fake server) and as fake server in srv (split 227/229 replies).  It
# logs how many segments ended inside a line; partial_lines_carried in fw
# must move by exactly that much, which also shows that the lines really
# were cut.
#
# Lines split around a gap before fw (loss or reordering upstream) are
# reassembled: the segment that came ahead is kept until the gap is
# filled, and the first attempt must work (gap_case, netem reordering).

source "$(dirname "$(readlink -f "$0")")/lib.sh"
source "$LIB_DIR/lib_seg.sh"

require_vm

cleanup()
{
	fake_stop
	srv_ftpd_stop > /dev/null 2>&1
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

# Data ports: below the ephemeral range, so that no control connection
# has the port already.
__port=20000
next_port()
{
	__port=$((__port + 1))
}

# seg_run ARGS...: an ftpseg.py client transfer (ARGS) that must deliver
# the file intact, with at least one expectation created and
# partial_lines_carried moved by exactly the number of segments the client
# (and the fake server, if one runs) ended inside a line.  Sets SEG_ERR to
# what went wrong, or to nothing.
seg_run()
{
	local want got created logs

	SEG_ERR=
	stat_snap
	# Generous: these bound only failures, and emulated VMs can be slow.
	if ! seg_get --timeout 10 --data-timeout 10 "$@"; then
		SEG_ERR="transfer failed"
		return
	fi
	logs=$SEG_CLIENT_LOG
	[ -n "$__fake_pid" ] && logs="$logs $SEG_LOG_DIR/server.log"
	want=$(midline_segments $logs)
	got=$(stat_delta partial_lines_carried)
	created=$(stat_delta expectations_created)
	if [ "$created" -lt 1 ]; then
		SEG_ERR="no expectation counted"
	elif [ "$got" != "$want" ]; then
		SEG_ERR="partial_lines_carried moved by $got, want $want"
	fi
}

# seg_report NAME: the KTAP line for the last seg_run.
seg_report()
{
	if [ -z "$SEG_ERR" ]; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "$SEG_ERR"
	diag_file "$SEG_CLIENT_LOG" 10
	stat_diag
	return 1
}

# seg_case NAME ARGS...: seg_run and its KTAP line.
seg_case()
{
	local name=$1

	shift
	seg_run "$@"
	seg_report "$name"
}

# seg_blocked NAME WANT_REPLY ARGS...: the same transfer must fail, after
# the server answered the data command with WANT_REPLY (a regex): the
# control connection works, only the data connection does not.
seg_blocked()
{
	local name=$1 reply=$2 out

	shift 2
	out=$(seg_client --timeout 5 --data-timeout 4 "$@")
	if [ $? -eq 0 ]; then
		not_ok "$name" "transfer succeeded ($out)"
	elif ! grep -Eq "<- ($reply)" "$SEG_CLIENT_LOG"; then
		not_ok "$name" "no '$reply' reply: the control connection failed"
		diag_file "$SEG_CLIENT_LOG" 8
	else
		ok "$name"
	fi
}

# fake_run SERVER_ARGS -- CLIENT_ARGS: seg_run against a fresh fake
# server in srv on $SRV_IP4.
fake_run()
{
	local -a sargs=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sargs+=("$1")
		shift
	done
	shift
	if ! fake_start $SRV_NS $SRV_IP4 --timeout 20 "${sargs[@]}"; then
		SEG_ERR="fake server did not start"
		return
	fi
	seg_run "$@"
	[ -n "$SEG_ERR" ] && diag_file "$SEG_LOG_DIR/server.log" 8
	fake_stop
}

# fake_case NAME SERVER_ARGS -- CLIENT_ARGS: fake_run and its KTAP line.
fake_case()
{
	local name=$1

	shift
	fake_run "$@"
	seg_report "$name"
}

# netem_runs COUNT ARGS...: COUNT transfers (a new data port each); prints
# how many failed.
netem_runs()
{
	local count=$1 i failed=0

	shift
	for i in $(seq "$count"); do
		next_port
		seg_get --timeout 4 --data-timeout 4 --data-port $__port \
			"$@" > /dev/null 2>&1 || failed=$((failed + 1))
	done
	echo $failed
}

# fw_nat_snat: masquerade what leaves fw towards srv (IPv4 and IPv6).
fw_nat_snat()
{
	in_ns $FW_NS iptables -t nat -A POSTROUTING -o $FW_SRV_IF -j MASQUERADE &&
	in_ns $FW_NS ip6tables -t nat -A POSTROUTING -o $FW_SRV_IF -j MASQUERADE
}

# setup_fw: firewall, helper not attached yet.
setup_fw()
{
	fw_policy && seg_no_autocork $CLI_NS && seg_no_autocork $SRV_NS
}

ktap_plan 59
dmesg_mark

# =========================================================================
# Setup
# =========================================================================
check_cmd "setup: topology" topo_setup
check_cmd "setup: tools (ftpseg.py, ctexpect)" seg_tools_ready
check_cmd "setup: helper modules loaded" load_ours ""
check_cmd "setup: firewall, control packet counters" \
	eval "setup_fw && seg_count_start"
check_cmd "setup: vsftpd IPv4 and IPv6" \
	eval "ftpd_start $FTP_PORT v4 && ftpd_start $FTP_PORT v6"

# =========================================================================
# Without the helper, the same transfers are blocked
# =========================================================================
next_port
seg_blocked "no helper: split PORT to vsftpd is blocked" "200 PORT" \
	--server $SRV_IP4 --mode port --split 2,7,13 --data-port $__port
srv_ftpd_stop
ftpd_start $FTP_PORT v6 > /dev/null
next_port
if fake_start $SRV_NS $SRV_IP4 --timeout 20 --split 3,30 --data-port $__port; then
	seg_blocked "no helper: split 227 from the fake server is blocked" \
		"227 " --server $SRV_IP4 --mode pasv
else
	not_ok "no helper: split 227 from the fake server is blocked" "no server"
fi
fake_stop

check_cmd "setup: helper attached" fw_helper_attach

# =========================================================================
# Server replies cut into segments (fake server in srv)
# =========================================================================
# "227 Entering Passive Mode (198,51,100,2,78,33).\r\n": offset 2 is inside
# "227", 29, 36 and 41 inside the numbers.
next_port
fake_case "227 split inside the code" --split 2 --data-port $__port -- \
	--server $SRV_IP4 --mode pasv
next_port
fake_case "227 split inside the numbers" --split 29,36,41 \
	--data-port $__port -- --server $SRV_IP4 --mode pasv
next_port
fake_case "227 one byte per segment" --split all --data-port $__port -- \
	--server $SRV_IP4 --mode pasv
# "229 Entering Extended Passive Mode (|||20006|)\r\n"
next_port
fake_case "229 split inside the code and the port" --split 2,40,42 \
	--data-port $__port -- --server $SRV_IP4 --mode epsv
next_port
fake_case "229 one byte per segment" --split all --data-port $__port -- \
	--server $SRV_IP4 --mode epsv
next_port
fake_case "multi-line 227, one byte per segment" --multiline 2 --split all \
	--data-port $__port -- --server $SRV_IP4 --mode pasv
# The very first segment of each direction: the client's is "PASV\r\n"
# (sent before the greeting arrives), the server's the greeting and the
# 227 together.  Without the PASV the 227 would be unpaired.
next_port
fake_case "first segments: PASV, then greeting + 227 in one segment" \
	--greet-late --data-port $__port -- --server $SRV_IP4 --mode pasv \
	--early

# =========================================================================
# Client commands cut into segments (vsftpd in srv, active mode: vsftpd
# connects back to cli through fw)
# =========================================================================
fake_stop
ftpd_start $FTP_PORT v4 > /dev/null || diag "vsftpd IPv4 did not restart"

next_port
seg_case "PORT split inside the verb" --server $SRV_IP4 --mode port \
	--split 2 --data-port $__port
next_port
seg_case "PORT split inside the numbers" --server $SRV_IP4 --mode port \
	--split 7,13,17,19 --data-port $__port
next_port
seg_case "PORT one byte per segment" --server $SRV_IP4 --mode port \
	--split all --data-port $__port
# "EPRT |1|192.0.2.2|20011|\r\n"
next_port
seg_case "EPRT |1| split inside the verb and the numbers" --server $SRV_IP4 \
	--mode eprt --split 3,10,14,21 --data-port $__port
next_port
seg_case "EPRT |1| one byte per segment" --server $SRV_IP4 --mode eprt \
	--split all --data-port $__port
# "EPRT |2|2001:db8:1::2|20013|\r\n"
next_port
seg_case "EPRT |2| (IPv6) split inside the verb and the address" \
	--server $SRV_IP6 --mode eprt --split 1,9,15,24 --data-port $__port
next_port
seg_case "EPRT |2| (IPv6) one byte per segment" --server $SRV_IP6 \
	--mode eprt --split all --data-port $__port
next_port
seg_case "three complete lines in one segment (NOOP, TYPE I, PORT)" \
	--server $SRV_IP4 --mode port --with NOOP --with "TYPE I" \
	--data-port $__port
next_port
seg_case "two complete lines and the start of PORT in one segment" \
	--server $SRV_IP4 --mode port --with NOOP --with "TYPE I" \
	--split 15 --data-port $__port

# A 600 byte line (a NOOP with a long argument) in 100 byte segments is
# dropped from parsing; the PORT after it is seen.
next_port
seg_run --server $SRV_IP4 --mode port --split 7,13 --data-port $__port \
	--pre "NOOP $(printf '%0593d' 0)" --pre-split every:100
n=$(stat_delta refused_overflow)
[ -z "$SEG_ERR" ] && [ "$n" != 1 ] && SEG_ERR="refused_overflow moved by $n, want 1"
seg_report "600 byte line over 6 segments, then a split PORT"

# Nothing was dropped for a partial line: fw sent on every control packet
# it got (counted before the helper runs) and the peers received them all.
counts=$(seg_count_check)
result "no control packet dropped by fw ($counts)" $? "packets fw sent on / peers received differ"

# =========================================================================
# Retransmissions and reordering
# =========================================================================
in_ns $FW_NS conntrack -F expect > /dev/null 2>&1

# drop_once NS SPORT|DPORT STRING: in NS, drop the first control packet
# (to or from port 21) that carries STRING, before conntrack sees it.
drop_once()
{
	in_ns "$1" iptables -t raw -I PREROUTING -p tcp --"$2" $FTP_PORT \
		-m string --algo bm --string "$3" -m statistic --mode nth \
		--every 1000 --packet 0 -j DROP
}

# drop_done NS: remove drop_once's rule; prints how many packets it dropped.
drop_done()
{
	in_ns "$1" iptables -t raw -L PREROUTING 1 -v -x -n | awk '{ print $1 }'
	in_ns "$1" iptables -t raw -D PREROUTING 1
}

# dropped_once NAME NS: drop_done NS, and the KTAP line NAME: exactly one
# packet was dropped (else the case before it proved nothing).
dropped_once()
{
	local lost

	lost=$(drop_done "$2")
	[ "$lost" = 1 ]
	result "$1" $? "$lost packets dropped, want 1"
}

# loss_case NAME NS SPORT|DPORT STRING: seg_run (or fake_run, with
# CASE_ARGS) while drop_once NS drops one segment; the transfer must work
# and exactly one packet must have been dropped.  The sender sends its
# segments 1 ms apart, so that the lost one is retransmitted after the
# next one went out (on a SACK), not before it (tail loss probe).
loss_case()
{
	local name=$1 ns=$2 dir=$3 string=$4 lost

	drop_once "$ns" "$dir" "$string"
	if [ "$dir" = dport ]; then
		seg_run --gap-ms 1 "${CASE_ARGS[@]}"
	else
		fake_run --gap-ms 1 "${CASE_ARGS[@]}"
	fi
	lost=$(drop_done "$ns")
	[ -z "$SEG_ERR" ] && [ "$lost" != 1 ] && SEG_ERR="$lost segments dropped, want 1"
	[ -n "$SEG_ERR" ] && SEG_ERR="$SEG_ERR (sequence_gaps +$(stat_delta sequence_gaps))"
	seg_report "$name"
}

# gap_case NAME NS SPORT|DPORT STRING: a segment lost BEFORE fw, so fw
# sees the one after it first: a sequence gap.  The helper keeps the
# segment that came ahead and parses it when the retransmission fills the
# gap (Documentation/nf_conntrack_ftp.rst), so the transfer must work the
# first time, without a retry; the gap must be counted, and exactly one
# packet must have been lost.  Both ends send their segments 1 ms apart,
# as in loss_case: the next segment must pass fw before the sender's tail
# loss probe (two round trips, a few ms here) resends the lost one, or
# there is no gap to see.
gap_case()
{
	local try i

	# Under load the probe can win the race: then fw saw no gap, and the
	# case showed nothing either way; it is played again (at most 3
	# times).  Any other failure counts at once.
	for try in 1 2 3; do
		gap_case_once "$@" && break
		[ "$GAP_ERR" = "no sequence gap counted" ] || break
		diag "try $try: the lost segment came again before the next one: no gap to see"
		# A fresh data port for the next try.
		next_port
		for i in "${!CASE_ARGS[@]}"; do
			[ "${CASE_ARGS[$i]}" = --data-port ] &&
				CASE_ARGS[$((i + 1))]=$__port
		done
	done
	if [ -z "$GAP_ERR" ]; then
		ok "$1"
	else
		not_ok "$1" "$GAP_ERR"
		diag_file "$SEG_CLIENT_LOG" 12
		stat_diag
	fi
}

gap_case_once()
{
	local name=$1 ns=$2 dir=$3 string=$4 lost err=
	local -a sargs=() cargs=("${CASE_ARGS[@]}")

	stat_snap
	if [ "$dir" = sport ]; then
		cargs=()
		set -- "${CASE_ARGS[@]}"
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			sargs+=("$1")
			shift
		done
		shift
		cargs=("$@")
		fake_start $SRV_NS $SRV_IP4 --timeout 30 --sessions 1 \
			--gap-ms 1 "${sargs[@]}" || err="fake server did not start"
	fi
	drop_once "$ns" "$dir" "$string"
	seg_get --timeout 8 --data-timeout 4 --gap-ms 1 \
		"${cargs[@]}" > /dev/null 2>&1 ||
		err="${err:+$err; }transfer failed (line not reassembled)"
	lost=$(drop_done "$ns")
	[ "$dir" = sport ] && fake_stop
	[ "$lost" = 1 ] || err="${err:+$err; }$lost segments dropped, want 1"
	[ "$(stat_delta sequence_gaps)" -ge 1 ] ||
		err="${err:+$err; }no sequence gap counted"
	GAP_ERR=$err
	[ -z "$err" ]
}

# A segment of a split PORT ("PORT 19" "2,0,2," "2,78,NN\r\n") lost after
# fw: srv acknowledges the segment after it selectively, the client
# retransmits the lost one, and fw sees that segment twice.
next_port
CASE_ARGS=(--server $SRV_IP4 --mode port --split 7,13 --data-port $__port)
loss_case "split PORT, a segment lost after fw and retransmitted" \
	$SRV_NS dport "2,0,2,"

# The same segment lost BEFORE fw (see gap_case).
next_port
CASE_ARGS=(--server $SRV_IP4 --mode port --split 7,13 --data-port $__port)
gap_case "split PORT, a segment lost before fw: gap counted, line reassembled" \
	$FW_NS dport "2,0,2,"

# Duplicates (fw sees every segment twice now and then) without
# reordering: the segments are further apart than the delay.
in_ns $CLI_NS tc qdisc add dev $CLI_IF root netem delay 10ms duplicate 20%
stat_snap
failed=$(netem_runs 3 --server $SRV_IP4 --mode port --split 7,13,19 --gap-ms 30)
in_ns $CLI_NS tc qdisc del dev $CLI_IF root
check_eq "netem duplicate 20%: 3 split PORT transfers, failed" "$failed" 0

# netem reorders the client's segments (sent 5 ms apart, 25% of them
# without the 20 ms delay), so fw sees some split lines out of order: they
# are reassembled (see gap_case).  netem can also leave two separate runs
# ahead of a gap, which the helper does not bridge: then the client's
# retry on the same connection must work.
in_ns $CLI_NS tc qdisc add dev $CLI_IF root netem delay 20ms \
	reorder 25% 50% duplicate 10%
stat_snap
failed=$(netem_runs 3 --server $SRV_IP4 --mode port --split 7,13,19 --gap-ms 5 --retry 1)
failed6=$(netem_runs 3 --server $SRV_IP6 --mode eprt --split 9,15,24 --gap-ms 5 --retry 1)
in_ns $CLI_NS tc qdisc del dev $CLI_IF root
if [ $((failed + failed6)) -eq 0 ]; then
	ok "netem reorder on cli: 3 split PORT + 3 split EPRT |2| transfers (retry allowed)"
else
	not_ok "netem reorder on cli: 3 split PORT + 3 split EPRT |2| transfers (retry allowed)" \
		"$failed + $failed6 failed, sequence_gaps +$(stat_delta sequence_gaps)"
fi

# The same in the reply direction, from the fake server: a segment of a
# split 227 ("227 Entering Passive Mode (19" "8,51,10" "0,2,7" "8,NN).")
# lost after fw, then before fw (see gap_case).
srv_ftpd_stop
ftpd_start $FTP_PORT v6 > /dev/null
next_port
CASE_ARGS=(--split 29,36,41 --data-port $__port -- --server $SRV_IP4 --mode pasv)
loss_case "split 227, a segment lost after fw and retransmitted" \
	$CLI_NS sport "8,51,10"
next_port
CASE_ARGS=(--split 29,36,41 --data-port $__port -- --server $SRV_IP4 --mode pasv)
gap_case "split 227, a segment lost before fw: gap counted, line reassembled" \
	$FW_NS sport "8,51,10"

# netem reordering the fake server's 227 segments (retry allowed, as on
# the client side).
in_ns $SRV_NS tc qdisc add dev $SRV_IF root netem delay 20ms \
	reorder 25% 50% duplicate 10%
stat_snap
failed=0
for i in 1 2 3; do
	next_port
	if ! fake_start $SRV_NS $SRV_IP4 --timeout 20 --split 29,36,41 \
		--gap-ms 5 --data-port $__port; then
		failed=$((failed + 1))
		continue
	fi
	seg_get --timeout 8 --data-timeout 4 --server $SRV_IP4 --mode pasv \
		--retry 1 > /dev/null 2>&1 || failed=$((failed + 1))
	fake_stop
done
in_ns $SRV_NS tc qdisc del dev $SRV_IF root
if [ $failed -eq 0 ]; then
	ok "netem reorder on srv: 3 split 227 transfers (retry allowed)"
else
	not_ok "netem reorder on srv: 3 split 227 transfers (retry allowed)" \
		"$failed failed, sequence_gaps +$(stat_delta sequence_gaps)"
fi

# Every expectation was used by its data connection.
n=$(exp_count)
check_eq "no expectation left over after the transfers" "$n" 0
[ "$n" = 0 ] || exp_diag

# Counters are per network namespace: fw's moved, cli's (no helper
# traffic) did not.
examined=$(stat_get lines_examined)
partial=$(stat_get partial_lines_carried)
if [ "${examined:-0}" -gt 0 ] && [ "${partial:-0}" -gt 0 ]; then
	ok "fw counters: lines_examined $examined, partial_lines_carried $partial"
else
	not_ok "fw counters: lines_examined ${examined:-?}, partial_lines_carried ${partial:-?}"
fi
cli_sum=$(in_ns $CLI_NS awk '{ n += $2 } END { print (NR ? n : "none") }' $SEG_STATS)
check_eq "cli counters (another namespace) all zero, sum" "$cli_sum" 0

# =========================================================================
# SNAT (masquerade towards srv; srv has no route to cli): active mode
# works only if PORT/EPRT are rewritten to fw's address, and vsftpd
# (port_promiscuous=NO) refuses a PORT naming another address than the
# control connection's peer.
# =========================================================================
srv_ftpd_stop
topo_cleanup
if topo_setup --no-srv-route && setup_fw && fw_helper_attach && fw_nat_snat &&
   ftpd_start $FTP_PORT v4 && ftpd_start $FTP_PORT v6; then
	ok "setup: SNAT topology"
else
	not_ok "setup: SNAT topology"
fi
V4LOG=$FTP_STATE_DIR/vsftpd-$FTP_PORT-v4.log
V6LOG=$FTP_STATE_DIR/vsftpd-$FTP_PORT-v6.log

# wide_cwnd NS [N]: the initial congestion window of NS's default routes
# (10 by default in Linux), and with N a retransmission timeout of at
# least 3 s.  A line cut into one-byte segments is more segments than a
# sender may have unacknowledged, and under NAT none of them is
# acknowledged before the whole line is there: the sender needs a window
# as large as the line, and its retransmission timer must not run out
# while the line comes in byte by byte (after a timeout it may send only
# one segment, a copy of the line's start, until something is
# acknowledged).  With the defaults the line goes on unrewritten, see
# "one byte per segment, default window".
wide_cwnd()
{
	local gw4=$FW_CLI_IP4 gw6=$FW_CLI_IP6

	if [ "$1" = "$SRV_NS" ]; then
		gw4=$FW_SRV_IP4
		gw6=$FW_SRV_IP6
	fi
	local opts="initcwnd 10"

	[ -n "${2:-}" ] && opts="initcwnd $2 rto_min 3s"
	ip -n "$1" route change default via $gw4 $opts &&
	ip -n "$1" -6 route change default via $gw6 $opts
}

# nat_case NAME LOG PATTERN ARGS...: seg_run, then the server's log must
# show the rewritten command (PATTERN, a fixed string) and nat_rewrites
# must have moved.
nat_case()
{
	local name=$1 log=$2 pattern=$3

	shift 3
	seg_run "$@"
	if [ -z "$SEG_ERR" ] && ! grep -qF -- "$pattern" "$log"; then
		SEG_ERR="the server did not get '$pattern'"
		diag_file "$log" 6
	elif [ -z "$SEG_ERR" ] && [ "$(stat_delta nat_rewrites)" -lt 1 ]; then
		SEG_ERR="nat_rewrites did not move"
	fi
	seg_report "$name"
}

next_port
nat_case "SNAT: PORT in one segment (baseline)" "$V4LOG" \
	"PORT 198,51,100,1,$((__port >> 8)),$((__port & 255))" \
	--server $SRV_IP4 --mode port --data-port $__port
# The split cases under NAT: the helper does not let the start of the line
# through (the segment ends before it, or goes on without payload) and
# keeps a copy; the segment that completes the line goes out carrying the
# whole line, rewritten, from the line's first sequence number.  Nothing is
# acknowledged on the sender's behalf.  Emptied segments lie inside the
# server's window, so it takes their acknowledgements and never answers
# them with a (rate-limited) duplicate ACK: its TCPACKSkippedSeq must not
# move.  Copies of held bytes (a retransmission, a duplicate) go on
# without payload until the line is complete, or they would land where the
# rewritten line goes ("500 Unknown command", or a stalled connection).
next_port
skipped=$(tcp_stat $SRV_NS TcpExtTCPACKSkippedSeq)
nat_case "SNAT: PORT split inside the numbers" "$V4LOG" \
	"PORT 198,51,100,1,$((__port >> 8)),$((__port & 255))" \
	--server $SRV_IP4 --mode port --split 7,13,19 --data-port $__port
check_eq "SNAT: split PORT, every held piece accepted by the server (TCPACKSkippedSeq)" \
	"$(($(tcp_stat $SRV_NS TcpExtTCPACKSkippedSeq) - skipped))" 0
next_port
wide_cwnd $CLI_NS 64
nat_case "SNAT: PORT one byte per segment" "$V4LOG" \
	"PORT 198,51,100,1,$((__port >> 8)),$((__port & 255))" \
	--server $SRV_IP4 --mode port --split all --data-port $__port
wide_cwnd $CLI_NS
# With the default window the client runs out of room before the line is
# complete and only retransmits its start: at the second such copy the
# helper lets the line go on as it is.  The server must get it whole and
# unrewritten (it refuses it: another address than the client's), nothing
# lost, and the control connection goes on (the client gets the refusal).
next_port
stat_snap
seg_client --timeout 20 --server $SRV_IP4 --mode port --split all \
	--data-port $__port --announce-only > /dev/null 2>&1
want="PORT 192,0,2,2,$((__port >> 8)),$((__port & 255))"
if ! grep -qF -- "\"$want\"" "$V4LOG"; then
	not_ok "SNAT: PORT one byte per segment, default window: whole line, unrewritten" \
		"the server did not get '$want'"
	diag_file "$V4LOG" 6
elif [ "$(stat_delta nat_lines_passed_unrewritten)" -lt 1 ]; then
	not_ok "SNAT: PORT one byte per segment, default window: whole line, unrewritten" \
		"nat_lines_passed_unrewritten did not move"
elif ! grep -q "PORT: unexpected reply '5" "$SEG_CLIENT_LOG"; then
	not_ok "SNAT: PORT one byte per segment, default window: whole line, unrewritten" \
		"the client got no reply to PORT"
	diag_file "$SEG_CLIENT_LOG" 6
else
	ok "SNAT: PORT one byte per segment, default window: whole line, unrewritten"
fi
next_port
nat_case "SNAT: EPRT |1| split inside the verb and the address" "$V4LOG" \
	"EPRT |1|198.51.100.1|$__port|" \
	--server $SRV_IP4 --mode eprt --split 3,9,15 --data-port $__port
next_port
nat_case "NAT66: EPRT |2| in one segment (baseline)" "$V6LOG" \
	"EPRT |2|$FW_SRV_IP6|$__port|" \
	--server $SRV_IP6 --mode eprt --data-port $__port
next_port
nat_case "NAT66: EPRT |2| split inside the address" "$V6LOG" \
	"EPRT |2|$FW_SRV_IP6|$__port|" \
	--server $SRV_IP6 --mode eprt --split 9,15,24 --data-port $__port
next_port
wide_cwnd $CLI_NS 64
nat_case "NAT66: EPRT |2| one byte per segment" "$V6LOG" \
	"EPRT |2|$FW_SRV_IP6|$__port|" \
	--server $SRV_IP6 --mode eprt --split all --data-port $__port
wide_cwnd $CLI_NS

# The rewritten segment lost after fw: the client's retransmission must be
# rewritten again.
drop_once $SRV_NS dport "PORT 198,51,100,1,"
next_port
nat_case "SNAT: rewritten PORT lost after fw, retransmission rewritten" \
	"$V4LOG" "PORT 198,51,100,1,$((__port >> 8)),$((__port & 255))" \
	--server $SRV_IP4 --mode port --data-port $__port
dropped_once "SNAT: the rewritten PORT was dropped once" $SRV_NS

# The same for a split line: the helper wrote the whole line, rewritten,
# into the segment that ended it; the client's retransmission of that
# segment carries only the line's last part, and the helper must write
# the whole line into it again (and put its start back where the line
# starts).  Without that the server never gets the line.
drop_once $SRV_NS dport "PORT 198,51,100,1,"
next_port
nat_case "SNAT: split PORT, the rewritten line lost after fw, retransmission rewritten" \
	"$V4LOG" "PORT 198,51,100,1,$((__port >> 8)),$((__port & 255))" \
	--server $SRV_IP4 --mode port --split 7,13,19 --data-port $__port
dropped_once "SNAT: split PORT, the rewritten line was dropped once" $SRV_NS

# =========================================================================
# DNAT (cli talks to fw's 192.0.2.1, DNATed to srv; cli has no route to
# srv): passive mode works only if the 227 is rewritten to 192.0.2.1 and
# the data connection follows the DNAT.  The fake server splits the 227.
# =========================================================================
srv_ftpd_stop
topo_cleanup
if topo_setup --no-cli-route && setup_fw && fw_helper_attach &&
   in_ns $FW_NS iptables -t nat -A PREROUTING -i $FW_CLI_IF -d $FW_CLI_IP4 \
	-p tcp --dport $FTP_PORT -j DNAT --to-destination $SRV_IP4; then
	ok "setup: DNAT topology"
else
	not_ok "setup: DNAT topology"
fi

# dnat_case NAME PATTERN SERVER_ARGS -- CLIENT_ARGS: fake_run, then the
# client must have been told PATTERN (a fixed string) by the server.
dnat_case()
{
	local name=$1 pattern=$2

	shift 2
	fake_run "$@"
	if [ -z "$SEG_ERR" ] && ! grep -qF -- "$pattern" "$SEG_CLIENT_LOG"; then
		SEG_ERR="the client was not told '$pattern'"
		diag_file "$SEG_CLIENT_LOG" 6
	elif [ -z "$SEG_ERR" ] && [ "$(stat_delta nat_rewrites)" -lt 1 ]; then
		SEG_ERR="nat_rewrites did not move"
	fi
	seg_report "$name"
}

dnat_227()
{
	echo "(192,0,2,1,$((__port >> 8)),$((__port & 255)))"
}

next_port
dnat_case "DNAT: 227 in one segment (baseline)" "$(dnat_227)" \
	--data-port $__port -- --server $FW_CLI_IP4 --mode pasv
# Split under NAT, as for SNAT above.
next_port
dnat_case "DNAT: 227 split inside the numbers" "$(dnat_227)" \
	--split 29,36,41 --data-port $__port -- --server $FW_CLI_IP4 --mode pasv
next_port
wide_cwnd $SRV_NS 64
dnat_case "DNAT: 227 one byte per segment" "$(dnat_227)" \
	--split all --data-port $__port -- --server $FW_CLI_IP4 --mode pasv
wide_cwnd $SRV_NS
next_port
dnat_case "DNAT: 229 split inside the port" "(|||$__port|)" \
	--split 40,42 --data-port $__port -- --server $FW_CLI_IP4 --mode epsv
# The segment that carries the rewritten 227 lost after fw (as for SNAT
# above): the server's retransmission must be rewritten again, whole.
drop_once $CLI_NS sport "(192,0,2,1,"
next_port
dnat_case "DNAT: split 227, the rewritten line lost after fw, retransmission rewritten" \
	"$(dnat_227)" --split 29,36,41 --data-port $__port -- \
	--server $FW_CLI_IP4 --mode pasv
dropped_once "DNAT: split 227, the rewritten line was dropped once" $CLI_NS

# =========================================================================
# Teardown
# =========================================================================
fake_stop
topo_cleanup
check_cmd "helper: modules unloaded" unload_ours
check_dmesg "kernel log clean"

ktap_finished
