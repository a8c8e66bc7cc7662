#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Never lose a byte: a rewritable line (PORT, EPRT, 227) cut into two TCP
# segments under NAT, with something done to the firewall between the
# two pieces.  Run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/custody.sh
#
# The receiving side (tools/ftpseg.py with --record) writes down every
# line it gets, the sending side (--sent) every line it sends; each case
# compares the two sequences line by line, so a lost head, a duplicate or
# a garbled line fails it.  Every case then needs the reply to a NOOP sent
# after the line (the connection goes on), within the client's --timeout.
#
# The firewall must never acknowledge bytes on the sender's behalf: while
# the head of a line waits for its rest, the sender still has it, and
# whatever happens to the helper, the conntrack entry or the path, the
# line gets through whole, rewritten or (when the helper is gone) as it
# was sent.
#
#  1 nothing between the pieces: the rewritten line (and an expectation);
#    the same check fails with nf_nat_ftp unloaded
#  2 rmmod nf_nat_ftp between the pieces: the original line, once
#  3 rmmod nf_nat_ftp and nf_conntrack_ftp: the same
#  4 conntrack -F: one line, rewritten or not
#  5 conntrack -D of the control entry: the same
#  6 helper taken off the entry through ctnetlink: the original line
#  7 netem loss, duplication, reordering on both firewall interfaces,
#    split and pipelined lines, real transfers: every line exact
#  8 the first PORT segment after the firewall dropped once: the client's
#    retransmission gets through rewritten, once
#  9 a client that never coalesces retransmissions: rewritten
# 10 a complete PORT line at the end of a full-MSS segment (the rewrite
#    adds 3 bytes, past the MTU): every byte once, rewritten
# 11 fault_alloc (nf_conntrack_ftp parameter) failing every allocation:
#    the original line, once
# and cases 2, 4 and 7 again for NAT66 (EPRT |2|) and DNAT (the server's
# 227).  A helper that takes the head into custody (acknowledges it to the
# sender and writes it back later) loses the head in 2, 3 and 6 and
# stalls in 4 and 5; 11 needs the fault_alloc parameter.  The firewall's /proc/net/nf_conntrack_ftp counters before and
# after each case are in the diagnostics.
#
# Environment: CUSTODY_CASES="2 4 9" runs only those cases (of every
# family; the others are reported as skipped), e.g. to show by hand that
# the kernel's own helper stalls in case 9:
#
#	selftests/vm/run-vm.sh -e FTP_HELPER_IMPL=kernel -e CUSTODY_CASES=9 \
#		-- /work/main/selftests/custody.sh

source "$(dirname "$(readlink -f "$0")")/lib.sh"
source "$LIB_DIR/lib_seg.sh"

require_vm

CUS_DIR=$SEG_LOG_DIR/custody
# Shell code each --between/--before hook starts with (the hooks run in a
# fresh bash, in cli's or srv's namespace).
HOOK_LIB="source $LIB_DIR/lib.sh; source $LIB_DIR/lib_seg.sh;"
# The data port the client announces (156,64) and the server's in 227.
DPORT=40000
PAUSE=1
CUS_TIMEOUT=8

cleanup()
{
	fake_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

ktap_plan 22
dmesg_mark

# =========================================================================
# Helpers
# =========================================================================

# sel N NAME: is case N to run?  If not, NAME is reported as skipped.
sel()
{
	case " ${CUSTODY_CASES:-all} " in
	*" all "*|*" $1 "*) return 0 ;;
	esac
	skip "$2" "not in CUSTODY_CASES"
	return 1
}

# counters: the firewall's non-zero helper counters on one line.
counters()
{
	in_ns $FW_NS awk '$2 != 0 { printf "%s=%s ", $1, $2; n++ }
		END { if (!n) printf "all zero" }' $SEG_STATS \
		2> /dev/null || printf '(no %s)' $SEG_STATS
}

# rules_del / rules_add: the CT --helper ftp rules of fw (which hold
# nf_conntrack_ftp loaded).
rules_del()
{
	local ipt

	for ipt in iptables ip6tables; do
		while in_ns $FW_NS $ipt -t raw -D PREROUTING -p tcp \
			--dport $FTP_PORT -j CT --helper ftp 2> /dev/null; do :; done
	done
	return 0
}

# modules_restore: both modules loaded again and attached.
modules_restore()
{
	if [ -d /sys/module/nf_conntrack_ftp ] && [ -d /sys/module/nf_nat_ftp ]; then
		return 0
	fi
	rules_del
	load_ours "" && fw_helper_attach
}

# compare SENT GOT WANT ORIG_RE NEW_RE: the lines in GOT (the receiver's
# record) are those in SENT (the sender's), the data line (the one in
# SENT matching ORIG_RE) received as WANT: "rewritten" (matching NEW_RE),
# "original" (byte for byte) or "either".  Prints a diff on mismatch.
compare()
{
	"$PYTHON" - "$@" <<-'EOF'
	import difflib, os, re, sys
	sent, got, want, orig_re, new_re = sys.argv[1:6]
	S = open(sent).read().splitlines() if os.path.exists(sent) else []
	G = open(got).read().splitlines() if os.path.exists(got) else []
	if sum(1 for l in S if re.search(orig_re, l)) != 1:
	    print(f"the sender did not send exactly one data line: {S}")
	    sys.exit(1)
	tok = "<the data line, %s>" % want
	if want != "original":
	    S = [tok if re.search(orig_re, l) else l for l in S]
	    G = [tok if re.search(new_re, l) or
	         (want == "either" and re.search(orig_re, l)) else l for l in G]
	if S == G:
	    sys.exit(0)
	for l in difflib.unified_diff(S, G, "sent", "received", lineterm="", n=9):
	    print(l)
	sys.exit(1)
	EOF
}

# wait_fake: the fake server ends its sessions by itself once the client
# quit; give it a moment, then stop it.
wait_fake()
{
	local i

	for i in $(seq 50); do
		kill -0 "$__fake_pid" 2> /dev/null || break
		sleep 0.1
	done
	fake_stop
}

# Per family/direction: how the data line looks when sent and when
# rewritten (regexes on the bytes literals of the records), and where the
# split goes (right after the address's first part).
set_snat4()
{
	FAM=SNAT
	SERVER=$SRV_IP4
	MODE=port
	SPLIT=15	# "PORT 192,0,2,2," | "156,64\r\n"
	ORIG_RE="^b'PORT 192,0,2,2,"
	NEW_RE="^b'PORT 198,51,100,1,[0-9]+,[0-9]+\\\\r\\\\n'$"
}
set_nat66()
{
	FAM=NAT66
	SERVER=$SRV_IP6
	MODE=eprt
	SPLIT=20	# "EPRT |2|2001:db8:1::" | "2|40000|\r\n"
	ORIG_RE="^b'EPRT \\|2\\|2001:db8:1::2\\|"
	NEW_RE="^b'EPRT \\|2\\|2001:db8:2::1\\|[0-9]+\\|\\\\r\\\\n'$"
}
set_dnat()
{
	FAM=DNAT
	SERVER=$FW_CLI_IP4
	MODE=pasv
	SPLIT=40	# "227 Entering Passive Mode (198,51,100,2," | "156,64).\r\n"
	ORIG_RE="^b'227 Entering Passive Mode \\(198,51,100,2,"
	NEW_RE="^b'227 Entering Passive Mode \\(192,0,2,1,[0-9]+,[0-9]+\\)\\.\\\\r\\\\n'$"
}

# run_split WANT HOOK [CLIENT_ARGS...]: one control connection whose data
# line (set_* above) is cut in two with HOOK (shell code, run with
# HOOK_LIB) between the pieces, then a NOOP.  An empty HOOK: nothing
# between the pieces but the sender's usual 25 ms (no hook, no pause).  Sets ERR to what went wrong,
# or to nothing; leaves the logs in $CUS_DIR.  For DNAT the fake server
# cuts its 227 and runs the hook, else the client cuts its PORT/EPRT.
run_split()
{
	local want=$1 hook=$2 rc sent got srv_addr=$SERVER timeout=$CUS_TIMEOUT
	local -a sargs=() cargs=() cutargs=()

	shift 2
	cutargs=(--split $SPLIT)
	[ -n "$hook" ] && cutargs+=(--between "$HOOK_LIB $hook" --pause $PAUSE)
	ERR=
	rm -rf "$CUS_DIR"
	mkdir -p "$CUS_DIR"
	fw_flush_conntrack
	diag "counters before: $(counters)"
	if [ $FAM = DNAT ]; then
		srv_addr=$SRV_IP4
		sargs=("${cutargs[@]}" --sent "$CUS_DIR/sent" --data-port $DPORT)
		# After conntrack -F only the client can bring the DNAT
		# mapping back (a packet from srv is not a new connection the
		# firewall lets through, nor would it be un-DNATed): a client
		# waiting for the 227 says something only in keepalives.
		cargs=(--record "$CUS_DIR/got" --keepalive 1)
		sent=$CUS_DIR/sent.1
		got=$CUS_DIR/got
	else
		sargs=(--record "$CUS_DIR/got")
		cargs=("${cutargs[@]}" --sent "$CUS_DIR/sent" --data-port $DPORT)
		sent=$CUS_DIR/sent
		got=$CUS_DIR/got.1
	fi
	if ! fake_start $SRV_NS $srv_addr --timeout 60 "${sargs[@]}"; then
		ERR="fake server did not start"
		return
	fi
	# For DNAT the wait for the 227 includes the server's hook, which
	# can take a while on a busy emulated machine.
	[ $FAM = DNAT ] && timeout=$((CUS_TIMEOUT + 12))
	seg_client --server $SERVER --mode $MODE --announce-only --any-reply \
		--after NOOP --timeout $timeout \
		"${cargs[@]}" "$@" > /dev/null
	rc=$?
	wait_fake
	if [ $rc -ne 0 ]; then
		ERR="the client failed ($rc): $(grep -a FAILED "$SEG_CLIENT_LOG" | tail -1)"
	elif [ -n "$hook" ] && ! grep -q '^ftpseg .*: hook exit 0$' \
			"$SEG_CLIENT_LOG" "$SEG_LOG_DIR/server.log"; then
		ERR="the hook between the pieces failed"
	fi
	if ! compare "$sent" "$got" "$want" "$ORIG_RE" "$NEW_RE" > "$CUS_DIR/diff"; then
		ERR="${ERR:+$ERR; }received lines differ (want the data line $want)"
	fi
	diag "counters after: $(counters)"
}

# report NAME: the KTAP line for the last run_split (and what went wrong).
report()
{
	if [ -z "$ERR" ]; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "$ERR"
	diag_file "$CUS_DIR/diff" 30
	diag "client:"
	diag_file "$SEG_CLIENT_LOG" 14
	diag "server:"
	diag_file "$SEG_LOG_DIR/server.log" 14
	return 1
}

# split_case NAME WANT HOOK [CLIENT_ARGS...]: run_split, report, and the
# modules loaded again if the hook took them away.
split_case()
{
	local name=$1

	shift
	sel "${name%%:*}" "$FAM $name" || return 0
	run_split "$@"
	report "$FAM $name"
	modules_restore || diag "could not load the modules again"
}

# The hooks: shell code run (after HOOK_LIB) between the pieces.
HOOK_DIR=$FTP_STATE_DIR/custody-hooks
mkdir -p "$HOOK_DIR"
HOOK_RMMOD_NAT="rmmod nf_nat_ftp"
# Both modules: the CT rules hold nf_conntrack_ftp, so they go first.
cat > "$HOOK_DIR/rmmod_both.sh" <<'EOF2'
for ipt in iptables ip6tables; do
	in_ns $FW_NS $ipt -t raw -D PREROUTING -p tcp --dport $FTP_PORT \
		-j CT --helper ftp || exit 1
done
rmmod nf_nat_ftp && __rmmod_wait nf_conntrack_ftp
EOF2
HOOK_RMMOD_BOTH="source $HOOK_DIR/rmmod_both.sh"
HOOK_FLUSH="in_ns \$FW_NS conntrack -F"
# conntrack says on stderr how many entries it deleted: exactly one.
cat > "$HOOK_DIR/delete.sh" <<'EOF2'
out=$(in_ns $FW_NS conntrack -D -p tcp --orig-port-dst $FTP_PORT 2>&1)
echo "$out"
echo "$out" | grep -q ': 1 flow entries have been deleted'
EOF2
HOOK_DELETE="source $HOOK_DIR/delete.sh"
# The control entry's original tuple (the first one conntrack -L
# prints), the helper taken off it (and off any other entry to its port)
# through ctnetlink, and then no entry with a helper left.
cat > "$HOOK_DIR/detach.sh" <<'EOF2'
set -- $(in_ns $FW_NS conntrack -L -p tcp --orig-port-dst $FTP_PORT 2> /dev/null |
	sed -n 's/^[^=]* src=\([^ ]*\) dst=\([^ ]*\) sport=\([0-9]*\) dport=\([0-9]*\) .*helper=ftp.*/\1 \2 \3 \4/p' |
	head -n 1)
echo "control entry: $*"
[ $# = 4 ] || exit 1
out=$(in_ns $FW_NS "$SEG_TOOLS/cthelper" detach --dport $4) || exit 1
echo "$out"
echo "$out" | grep -q '^detached [1-9]' || exit 1
! in_ns $FW_NS conntrack -L 2> /dev/null | grep helper=
EOF2
HOOK_DETACH="source $HOOK_DIR/detach.sh"

# netem_case SESSIONS: case 7, SESSIONS (up to 4) sessions through netem
# on both fw interfaces, each a real transfer, split or pipelined; every
# session's lines exact (the data line rewritten).
netem_case()
{
	local sessions=$1
	local name="$FAM 7: netem loss, duplication and reordering on both fw interfaces: every line exact, every transfer intact"
	local i failed= sha data=$FTP_STATE_DIR/custody.bin
	local -a cli
	local -a splits=("$SPLIT" "7,$SPLIT" "$SPLIT" "1,$SPLIT")
	local -a extra=("" "" "--tail NOOP" "--tail NOOP --tail NOOP")

	sel 7 "$name" || return 0
	[ -s "$data" ] || head -c 65536 /dev/urandom > "$data"
	sha=$(sha256sum "$data" | cut -d' ' -f1)
	rm -rf "$CUS_DIR"
	mkdir -p "$CUS_DIR"
	fw_flush_conntrack
	diag "counters before: $(counters)"
	in_ns $FW_NS tc qdisc add dev $FW_CLI_IF root netem loss 10% \
		duplicate 10% reorder 25% delay 5ms
	in_ns $FW_NS tc qdisc add dev $FW_SRV_IF root netem loss 10% \
		duplicate 10% reorder 25% delay 5ms
	if [ $FAM = DNAT ]; then
		fake_start $SRV_NS $SRV_IP4 --timeout 300 --sessions $sessions --file "$data" \
			--sent "$CUS_DIR/sent" --split "$SPLIT" --gap-ms 25
	else
		fake_start $SRV_NS $SERVER --timeout 300 --sessions $sessions --file "$data" \
			--record "$CUS_DIR/got"
	fi || failed="fake server did not start"
	for i in $(seq $sessions); do
		[ -n "$failed" ] && break
		if [ $FAM = DNAT ]; then
			cli=(--record "$CUS_DIR/got.$i")
		else
			# shellcheck disable=SC2206
			cli=(--split ${splits[$((i - 1))]} --sent "$CUS_DIR/sent.$i"
			     ${extra[$((i - 1))]})
		fi
		if ! seg_client --server $SERVER --mode $MODE --after NOOP \
			--timeout 15 --data-timeout 15 --expect-sha256 "$sha" \
			"${cli[@]}" > /dev/null; then
			failed="session $i: the client failed: $(grep -a FAILED "$SEG_CLIENT_LOG" | tail -1)"
			cp "$SEG_CLIENT_LOG" "$CUS_DIR/client.log"
			break
		fi
		if ! compare "$CUS_DIR/sent.$i" "$CUS_DIR/got.$i" rewritten \
			"$ORIG_RE" "$NEW_RE" > "$CUS_DIR/diff"; then
			failed="session $i: received lines differ"
			cp "$SEG_CLIENT_LOG" "$CUS_DIR/client.log"
			break
		fi
	done
	wait_fake
	in_ns $FW_NS tc qdisc del dev $FW_CLI_IF root
	in_ns $FW_NS tc qdisc del dev $FW_SRV_IF root
	diag "counters after: $(counters)"
	if [ -z "$failed" ]; then
		ok "$name"
	else
		not_ok "$name" "$failed"
		diag_file "$CUS_DIR/diff" 30
		diag_file "$CUS_DIR/client.log" 14
		diag_file "$SEG_LOG_DIR/server.log" 8
	fi
}

# =========================================================================
# SNAT topology: cli 192.0.2.2 -> fw (masquerade to 198.51.100.1) -> srv
# 198.51.100.2, which has no route back: only a rewritten PORT works.
# =========================================================================
mkdir -p "$CUS_DIR"
if topo_setup --no-srv-route && seg_tools_ready && __ftp_users && __ftp_data &&
   load_ours "" &&
   fw_policy && fw_helper_attach &&
   in_ns $FW_NS iptables -t nat -A POSTROUTING -o $FW_SRV_IF -j MASQUERADE &&
   in_ns $FW_NS ip6tables -t nat -A POSTROUTING -o $FW_SRV_IF -j MASQUERADE &&
   seg_no_autocork $CLI_NS && seg_no_autocork $SRV_NS; then
	ok "setup: SNAT topology, tools, modules, firewall"
else
	not_ok "setup: SNAT topology, tools, modules, firewall"
fi

set_snat4

# 1: nothing between the pieces.  (Not even a pause: the new helper lets
# a line go on unrewritten once the sender sent its head three times,
# which a pause of a second or so is enough for.)
name="SNAT 1: nothing between the pieces: the rewritten line, once, and an expectation"
if sel 1 "$name"; then
	run_split rewritten ""
	n=$(exp_count)
	[ -z "$ERR" ] && [ "${n:-0}" -lt 1 ] && ERR="no expectation in fw"
	report "$name"
fi

# The same check must fail without nf_nat_ftp: then the server gets the
# original line, and the check above must say so.
name="SNAT 1: without nf_nat_ftp the same check fails (the server got the original line)"
if sel 1 "$name"; then
	rmmod nf_nat_ftp
	run_split rewritten ""
	if [ -n "$ERR" ] && compare "$CUS_DIR/sent" "$CUS_DIR/got.1" original \
		"$ORIG_RE" "$NEW_RE" > /dev/null; then
		ok "$name"
	else
		not_ok "$name" "${ERR:-the check passed}"
		diag_file "$CUS_DIR/diff" 12
	fi
	modules_restore
fi

# 2-6: the helper, its NAT part or the entry goes away between the pieces.
split_case "2: rmmod nf_nat_ftp between the pieces: the original line, once, then NOOP" \
	original "$HOOK_RMMOD_NAT"
split_case "3: rmmod nf_nat_ftp nf_conntrack_ftp between the pieces: the original line, once, then NOOP" \
	original "$HOOK_RMMOD_BOTH"
split_case "4: conntrack -F between the pieces: one whole line, then NOOP" \
	either "$HOOK_FLUSH"
split_case "5: conntrack -D of the control entry between the pieces: one whole line, then NOOP" \
	either "$HOOK_DELETE"
split_case "6: helper detached through ctnetlink between the pieces: the original line, once, then NOOP" \
	original "$HOOK_DETACH"

# 7: a lossy, duplicating, reordering path on both sides of fw.
netem_case 4

# 8: the first segment that carries "PORT " after fw is dropped (in srv,
# before anything else): the client must retransmit (nothing was
# acknowledged for it), and its retransmission, head and rest together,
# gets through rewritten, once.
name="SNAT 8: the first PORT segment after fw dropped: the client's retransmission gets through rewritten, once"
if sel 8 "$name"; then
	in_ns $SRV_NS iptables -t raw -I PREROUTING -p tcp --dport $FTP_PORT \
		-m string --algo bm --string "PORT " -m statistic --mode nth \
		--every 1000 --packet 0 -j DROP
	retrans=$(tcp_stat $CLI_NS TcpRetransSegs)
	run_split rewritten ""
	lost=$(in_ns $SRV_NS iptables -t raw -L PREROUTING 1 -v -x -n |
		awk '{ print $1 }')
	in_ns $SRV_NS iptables -t raw -D PREROUTING 1
	retrans=$(($(tcp_stat $CLI_NS TcpRetransSegs) - retrans))
	[ "$lost" = 1 ] || ERR="${ERR:+$ERR; }$lost segments dropped after fw, want 1"
	[ "$retrans" -ge 1 ] || ERR="${ERR:+$ERR; }the client retransmitted nothing"
	diag "the client retransmitted $retrans segments"
	report "$name"
fi

# 9: a client that never coalesces retransmissions (the kernel's own
# helper, which drops the head until the client sends it together with
# the rest, stalls here for good).
name="SNAT 9: a client that never coalesces retransmissions: the rewritten line, once"
if sel 9 "$name"; then
	in_ns $CLI_NS sysctl -qw net.ipv4.tcp_retrans_collapse=0
	retrans=$(tcp_stat $CLI_NS TcpRetransSegs)
	run_split rewritten ""
	diag "the client retransmitted $(($(tcp_stat $CLI_NS TcpRetransSegs) - retrans)) segments"
	in_ns $CLI_NS sysctl -qw net.ipv4.tcp_retrans_collapse=1
	report "$name"
fi

# 10: a full-MSS segment ending with a complete PORT line: rewritten, it
# would be 3 bytes past fw's MTU (1500, DF set).  A counter in fw shows
# that the client really sent a 1500-byte packet.
name="SNAT 10: a PORT line ending a full-MSS segment (rewrite past the MTU): every byte once, rewritten"
if sel 10 "$name"; then
	in_ns $FW_NS nft -f - <<-EOF
	table ip custody {
		counter full { }
		chain pre {
			type filter hook prerouting priority -400; policy accept;
			tcp dport $FTP_PORT ip length 1500 counter name "full"
		}
	}
	EOF
	run_split rewritten "" --fill-mss --split none
	full=$(in_ns $FW_NS nft list counter ip custody full 2> /dev/null |
		sed -n 's/.*packets \([0-9]*\) .*/\1/p')
	in_ns $FW_NS nft delete table ip custody
	[ "${full:-0}" -ge 1 ] || ERR="${ERR:+$ERR; }the client sent no 1500-byte packet"
	report "$name"
fi

# 11: every per-connection allocation of the helper fails.
FAULT=/sys/module/nf_conntrack_ftp/parameters/fault_alloc
name="SNAT 11: allocations failing (fault_alloc): the original line, once, then NOOP"
if ! sel 11 "$name"; then
	:
elif [ ! -w "$FAULT" ]; then
	not_ok "$name" "nf_conntrack_ftp has no fault_alloc parameter: cannot inject allocation failures"
else
	run_split original "" --before "echo 1000000 > $FAULT"
	echo 0 > "$FAULT"
	report "$name"
fi

# =========================================================================
# NAT66: EPRT |2| from 2001:db8:1::2, masqueraded to 2001:db8:2::1.
# =========================================================================
set_nat66
split_case "2: rmmod nf_nat_ftp between the pieces: the original line, once, then NOOP" \
	original "$HOOK_RMMOD_NAT"
split_case "4: conntrack -F between the pieces: one whole line, then NOOP" \
	either "$HOOK_FLUSH"
netem_case 2

# =========================================================================
# DNAT: cli talks to fw's 192.0.2.1, DNATed to srv's 198.51.100.2; cli has
# no route to srv: only a rewritten 227 works.  The fake server cuts its
# 227 and runs the hooks.
# =========================================================================
fake_stop
topo_cleanup
if topo_setup --no-cli-route && fw_policy && fw_helper_attach &&
   in_ns $FW_NS iptables -t nat -A PREROUTING -i $FW_CLI_IF -d $FW_CLI_IP4 \
	-p tcp --dport $FTP_PORT -j DNAT --to-destination $SRV_IP4 &&
   seg_no_autocork $CLI_NS && seg_no_autocork $SRV_NS; then
	ok "setup: DNAT topology"
else
	not_ok "setup: DNAT topology"
fi
set_dnat
split_case "2: rmmod nf_nat_ftp between the pieces of the 227: the original line, once, then NOOP" \
	original "$HOOK_RMMOD_NAT"
split_case "4: conntrack -F between the pieces of the 227: one whole line, then NOOP" \
	either "$HOOK_FLUSH"
netem_case 2

# =========================================================================
# Teardown
# =========================================================================
fake_stop
topo_cleanup
check_cmd "helper: modules unloaded" unload_ours
check_dmesg "kernel log clean"

ktap_finished
