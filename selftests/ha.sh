#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# FTP through an active/backup firewall pair kept in sync by conntrackd
# (conntrack-tools, FTFW mode, expectation sync for "ftp"), with a
# failover in the middle of the session.  Run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/ha.sh
#
#   cli 192.0.2.2/25 ---- br-c ---- fw1 ---- br-s ---- srv 198.51.100.2/24
#                           \                 /
#                            `----- fw2 -----'
#                       fw1 sync 192.0.2.201/30 --- fw2 sync 192.0.2.202/30
#
# The bridges live in namespace "sw".  The gateway addresses 192.0.2.1
# and 198.51.100.1 (the SNAT address too) are on the active firewall; a
# failover takes the old one off both bridges, runs "conntrackd -c" on the
# new one (commit the synced state to its kernel) and moves the addresses
# there.  Both firewalls pass only ESTABLISHED and RELATED packets and new
# SYNs to port 21, so nothing of a session gets through the backup unless
# its state really was synced.
#
# The client is tools/ftpha.py: one control connection, played step by
# step against vsftpd, each download checked by its sha256, with the
# failover between two steps.  Cases:
#  1 PASV and PORT downloads after the failover on the same control
#    connection (the helper picks the stream up on the injected entry);
#  2 PASV answered through the old master, the data connection through
#    the backup (the expectation was synced and committed);
#  3 PASV through the old master, its 227 through the backup: the helper
#    there never saw the PASV (fw1 drops the 227, fw2 the client's copies
#    of the PASV) and must not refuse the reply (pairing);
#  4 SNAT: a PORT that the rewrite makes 3 bytes longer before the
#    failover, more commands and a PORT after it; the sequence adjustment
#    must reach the backup (the helper raises IPCT_SEQADJ), else the next
#    command arrives shifted ("500 Unknown command");
#  5 SNAT: a PORT line split in two, the failover between the pieces: the
#    head is still with the client (fw1 never let it through), so the
#    server gets the line once, whole: rewritten, or (usually: fw2 picks
#    the stream up mid-line) as sent, counted; the session goes on and the
#    next PORT through fw2 works;
#  6 case 1 without conntrackd: the backup passes nothing (the negative
#    case the others rely on);
#  7 SNAT, conntrackd on fw1 dies after the control connection was synced
#    and before a PORT: the backup never learns of the rewrite.  With
#    nf_nat_ftp keep_length=0 the line grows by 3 bytes and the session
#    breaks at the failover (the window that raising IPCT_SEQADJ leaves);
#    with keep_length=1 the rewrite keeps the line's length and the
#    session goes on.
# HA_CASES="4 5" runs only those cases (the others are reported as
# skipped).
# After each failover the backup's conntrack table (and for case 2 its
# expectations) must show what conntrackd committed.

source "$(dirname "$(readlink -f "$0")")/lib.sh"
source "$LIB_DIR/lib_seg.sh"	# stat_get

require_vm

FTPHA="python3 $LIB_DIR/tools/ftpha.py"
HA_DIR=/tmp/vmtest-ha
SW_NS=sw
FW1_NS=fw1
FW2_NS=fw2
VIP_C=192.0.2.1
VIP_S=198.51.100.1
HA_CLI_IP4=192.0.2.2
declare -A FW_C_IP=([fw1]=192.0.2.11 [fw2]=192.0.2.12)
declare -A FW_S_IP=([fw1]=198.51.100.11 [fw2]=198.51.100.12)
declare -A SYNC_IP=([fw1]=192.0.2.201 [fw2]=192.0.2.202)

ha_cleanup()
{
	local ns

	for ns in $FW1_NS $FW2_NS; do
		[ -f "$HA_DIR/$ns.conf" ] && ha_ctd $ns -k > /dev/null 2>&1
	done
	pkill -f "conntrackd -C $HA_DIR/" 2>/dev/null
	for ns in $CLI_NS $SRV_NS $SW_NS $FW1_NS $FW2_NS; do
		ip netns del $ns 2>/dev/null
	done
	return 0
}

cleanup()
{
	ftpd_stop
	ha_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

# ha_link NS1 IF1 NS2 IF2: a veth pair between two namespaces, up.
ha_link()
{
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		return 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# ha_fw_rules FW NAT: the firewall's policy; NAT=snat adds SNAT to the
# gateway address on the server side.
ha_fw_rules()
{
	local fw=$1 nat=$2 snat=

	in_ns $fw sysctl -qw net.ipv4.ip_forward=1 || return 1
	[ "$nat" = snat ] && snat="-A POSTROUTING -o eth-s -j SNAT --to-source $VIP_S"
	# One iptables-restore per firewall: each process costs under TCG.
	in_ns $fw iptables-restore <<-EOF || return 1
	*raw
	-A PREROUTING -i eth-c -p tcp --dport 21 -j CT --helper ftp
	COMMIT
	*nat
	$snat
	COMMIT
	*filter
	:FORWARD DROP [0:0]
	-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	-A FORWARD -i eth-c -p tcp --dport 21 --syn -m conntrack --ctstate NEW -j ACCEPT
	COMMIT
	EOF
	# The policy must really be there: without it the test proves nothing.
	in_ns $fw iptables -S FORWARD | grep -q -- '-P FORWARD DROP'
}

# ha_conntrackd_conf FW: FTFW over the sync link, expectations of "ftp".
ha_conntrackd_conf()
{
	local fw=$1 peer

	[ "$fw" = fw1 ] && peer=fw2 || peer=fw1
	cat > "$HA_DIR/$fw.conf" <<-EOF
	Sync {
		Mode FTFW {
		}
		UDP {
			IPv4_address ${SYNC_IP[$fw]}
			IPv4_Destination_Address ${SYNC_IP[$peer]}
			Port 3780
			Interface sync
			Checksum on
		}
		Options {
			ExpectationSync {
				ftp
			}
		}
	}
	General {
		HashSize 8192
		HashLimit 65536
		LogFile $HA_DIR/$fw.log
		Syslog off
		LockFile $HA_DIR/$fw.lock
		UNIX {
			Path $HA_DIR/$fw.ctl
		}
		NetlinkBufferSize 2097152
		NetlinkBufferSizeMaxGrowth 8388608
		Filter From Userspace {
			Protocol Accept {
				TCP
			}
			Address Ignore {
				IPv4_address 127.0.0.1
				IPv4_address ${SYNC_IP[fw1]}
				IPv4_address ${SYNC_IP[fw2]}
			}
		}
	}
	EOF
}

# ha_ctd FW ARGS...: conntrackd's client for FW's daemon.
ha_ctd()
{
	local fw=$1

	shift
	in_ns "$fw" conntrackd -C "$HA_DIR/$fw.conf" "$@"
}

# ha_start_conntrackd FW: start the daemon and wait until it answers.
ha_start_conntrackd()
{
	local fw=$1 i

	ha_conntrackd_conf "$fw"
	rm -f "$HA_DIR/$fw.lock"
	: > "$HA_DIR/$fw.log"
	ha_ctd "$fw" -d > /dev/null 2>&1 || return 1
	for i in $(seq 50); do
		ha_ctd "$fw" -s > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	diag "conntrackd in $fw did not start:"
	diag_file "$HA_DIR/$fw.log"
	return 1
}

# ha_setup NAT CONNTRACKD: the namespaces, fw1 active.  NAT: none or snat
# (then srv has no route to the client side).  CONNTRACKD: 1 or 0.
ha_setup()
{
	local nat=$1 ctd=$2 ns fw

	ha_cleanup
	mkdir -p "$HA_DIR"
	for ns in $CLI_NS $SRV_NS $SW_NS $FW1_NS $FW2_NS; do
		__ns_add $ns || return 1
	done
	ip -n $SW_NS link add br-c type bridge || return 1
	ip -n $SW_NS link add br-s type bridge || return 1
	ip -n $SW_NS link set br-c up && ip -n $SW_NS link set br-s up
	ha_link $CLI_NS eth0 $SW_NS c-cli || return 1
	ha_link $SRV_NS eth0 $SW_NS s-srv || return 1
	ip -n $SW_NS link set c-cli master br-c
	ip -n $SW_NS link set s-srv master br-s
	for fw in $FW1_NS $FW2_NS; do
		ha_link $fw eth-c $SW_NS c-$fw || return 1
		ha_link $fw eth-s $SW_NS s-$fw || return 1
		ip -n $SW_NS link set c-$fw master br-c
		ip -n $SW_NS link set s-$fw master br-s
		ip -n $fw addr add ${FW_C_IP[$fw]}/25 dev eth-c
		ip -n $fw addr add ${FW_S_IP[$fw]}/24 dev eth-s
	done
	ha_link $FW1_NS sync $FW2_NS sync || return 1
	ip -n $FW1_NS addr add ${SYNC_IP[fw1]}/30 dev sync
	ip -n $FW2_NS addr add ${SYNC_IP[fw2]}/30 dev sync

	ip -n $CLI_NS addr add $HA_CLI_IP4/25 dev eth0
	ip -n $CLI_NS route add default via $VIP_C || return 1
	ip -n $SRV_NS addr add $SRV_IP4/24 dev eth0
	if [ "$nat" != snat ]; then
		ip -n $SRV_NS route add 192.0.2.0/25 via $VIP_S || return 1
	fi
	ip -n $FW1_NS addr add $VIP_C/25 dev eth-c
	ip -n $FW1_NS addr add $VIP_S/24 dev eth-s

	for fw in $FW1_NS $FW2_NS; do
		ha_fw_rules $fw "$nat" || return 1
	done
	if [ "$ctd" = 1 ]; then
		for fw in $FW1_NS $FW2_NS; do
			ha_start_conntrackd $fw || return 1
		done
	fi
	ftpd_stop
	ftpd_start || return 1
	in_ns $CLI_NS ping -q -c 1 -W 2 $VIP_C > /dev/null &&
		in_ns $SRV_NS ping -q -c 1 -W 2 $VIP_S > /dev/null
}

# ha_failover CONNTRACKD: fw1 leaves both bridges, fw2 commits what
# conntrackd synced and takes the gateway addresses.
ha_failover()
{
	local ctd=$1

	ip -n $SW_NS link set c-fw1 down
	ip -n $SW_NS link set s-fw1 down
	ip -n $FW1_NS addr del $VIP_C/25 dev eth-c
	ip -n $FW1_NS addr del $VIP_S/24 dev eth-s
	if [ "$ctd" = 1 ]; then
		# Connections first: an expectation needs its master.
		{ ha_ctd $FW2_NS -c ct && ha_ctd $FW2_NS -c expect; } \
			> "$HA_DIR/commit.log" 2>&1 ||
			ha_diag_cmd "conntrackd -c failed:" cat "$HA_DIR/commit.log"
	fi
	# What the commit put in the table, before anything else does.
	in_ns $FW2_NS conntrack -L > "$HA_DIR/committed" 2>/dev/null
	ip -n $FW2_NS addr add $VIP_C/25 dev eth-c
	ip -n $FW2_NS addr add $VIP_S/24 dev eth-s
	# What a gratuitous ARP does on a real network.
	ip -n $CLI_NS neigh flush all
	ip -n $SRV_NS neigh flush all
	return 0
}

# ha_wait_synced WHAT PATTERN: wait until fw2's external cache (WHAT: ct
# or expect) has a line matching PATTERN, then a little more for the
# update events that follow.
ha_wait_synced()
{
	local i

	for i in $(seq 100); do
		if ha_ctd $FW2_NS -e "$1" 2>/dev/null | grep -q -E -- "$2"; then
			sleep 0.5
			return 0
		fi
		sleep 0.1
	done
	diag "fw2's external cache has no $1 entry like '$2':"
	ha_diag_cmd "external cache:" ha_ctd $FW2_NS -e "$1"
	return 1
}

# ha_client NAME STEP...: start the client in cli, in the background.
ha_client()
{
	local name=$1

	shift
	rm -rf "$HA_DIR/go" "$HA_DIR/$name.out"
	mkdir -p "$HA_DIR/go"
	in_ns $CLI_NS $FTPHA --connect $SRV_IP4 --sha "$(ftp_expected_sha256)" \
		--sync "$HA_DIR/go" --timeout "${HA_TIMEOUT:-15}" "$@" \
		> "$HA_DIR/$name.out" 2>&1 &
	HA_CLIENT_PID=$!
}

# ha_at NAME WAIT: wait until the client waits at "wait:WAIT".
ha_at()
{
	local i

	for i in $(seq 300); do
		grep -q "^wait $2\$" "$HA_DIR/$1.out" 2> /dev/null && return 0
		grep -q "^fail " "$HA_DIR/$1.out" 2> /dev/null && break
		kill -0 $HA_CLIENT_PID 2>/dev/null || break
		sleep 0.1
	done
	diag "the client did not get to wait:$2:"
	diag_file "$HA_DIR/$1.out"
	return 1
}

# ha_go WAIT: let the client go on past wait:WAIT.
ha_go()
{
	touch "$HA_DIR/go/$1"
}

# ha_diag_cmd TITLE CMD...: CMD's output as diagnostics.
ha_diag_cmd()
{
	diag "$1"
	shift
	"$@" 2>&1 | tail -n 30 | sed 's/^/#   /'
}

# ha_diag: the state of both firewalls, for a case that failed.
ha_diag()
{
	local fw

	for fw in $FW1_NS $FW2_NS; do
		ha_diag_cmd "conntrack -L in $fw:" in_ns $fw conntrack -L
		ha_diag_cmd "conntrack -L expect in $fw:" \
			in_ns $fw conntrack -L expect
		ha_diag_cmd "counters in $fw (not 0):" in_ns $fw \
			awk '$2 != 0' /proc/net/nf_conntrack_ftp
		ha_diag_cmd "conntrackd log of $fw:" cat "$HA_DIR/$fw.log"
	done
	ha_diag_cmd "conntrackd -c in fw2:" cat "$HA_DIR/commit.log"
	ha_diag_cmd "vsftpd's log:" cat "$FTP_STATE_DIR"/vsftpd-21-v4.log
}

# ha_client_done NAME: the client's status; its output and the state of
# the firewalls as diagnostics when it failed.
ha_client_done()
{
	local rc

	wait $HA_CLIENT_PID
	rc=$?
	if [ $rc -ne 0 ]; then
		ha_diag_cmd "client ($1):" cat "$HA_DIR/$1.out"
		ha_diag
	fi
	return $rc
}

CTRL_RE="dport=21 .*helper=ftp"
# The same, SNATed to the gateway address.
CTRL_SNAT_RE="dport=21 src=$SRV_IP4 dst=$VIP_S .*helper=ftp"

# check_committed NAME PATTERN: the failover's commit put the control
# connection into fw2's table (with its helper, and NAT if PATTERN says).
check_committed()
{
	if grep -q -E -- "$2" "$HA_DIR/committed"; then
		ok "$1: conntrackd committed the control entry to fw2"
	else
		not_ok "$1: conntrackd committed the control entry to fw2"
		ha_diag_cmd "fw2 after the commit:" cat "$HA_DIR/committed"
	fi
}

ha_case_pickup()	# 1
{
	local name=pickup

	ha_setup none 1 || { not_ok "$name: setup"; return; }
	ha_client $name login get:pasv get:port wait:failover \
		get:pasv get:port get:epsv noop quit
	ha_at $name failover && ha_wait_synced ct "dport=21 " &&
		ha_failover 1
	ha_go failover
	ha_client_done $name
	result "$name: PASV and PORT on the same session after failover" $?
	check_committed $name "$CTRL_RE"
	check_eq "$name: fw2 picked the stream up" \
		"$(stat_get streams_picked_up $FW2_NS)" 1
}

ha_case_expect()	# 2
{
	local name=expect exp

	ha_setup none 1 || { not_ok "$name: setup"; return; }
	ha_client $name login pasv wait:failover retr noop quit
	ha_at $name failover && ha_wait_synced expect "dport=4[0-9]{4} "
	ha_failover 1
	exp=$(in_ns $FW2_NS conntrack -L expect 2>/dev/null)
	if printf '%s\n' "$exp" | grep -q -E "dst=$SRV_IP4 .*dport=4[0-9]{4} .*ftp"; then
		ok "$name: fw2 has the committed expectation"
	else
		not_ok "$name: fw2 has the committed expectation"
		ha_diag_cmd "conntrack -L expect in fw2:" echo "$exp"
		ha_diag_cmd "conntrackd -e expect in fw2:" \
			ha_ctd $FW2_NS -e expect
	fi
	ha_go failover
	ha_client_done $name
	result "$name: 227 through fw1, data connection through fw2" $?
	check_committed $name "$CTRL_RE"
	check_eq "$name: no expectation left in fw2" \
		"$(in_ns $FW2_NS conntrack -L expect 2>/dev/null | grep -c dport)" 0
}

ha_case_reply()		# 3
{
	local name=reply i

	ha_setup none 1 || { not_ok "$name: setup"; return; }
	# fw1 forwards the PASV but drops the 227: it comes again, through
	# fw2 once the server retransmits it after the failover.
	if ! in_ns $FW1_NS iptables -I FORWARD -i eth-s -p tcp --sport 21 \
		-m string --algo bm --string "227 " -j DROP; then
		not_ok "$name: fw1 drops the 227" "iptables -m string failed"
		return
	fi
	# The 227 carried the server's ACK of the PASV, so the client sends
	# the PASV again too: fw2 must not see it (raw comes before conntrack).
	if ! in_ns $FW2_NS iptables -t raw -I PREROUTING -i eth-c -p tcp \
		--dport 21 -m string --algo bm --string "PASV" -j DROP; then
		not_ok "$name: fw2 drops the PASV" "iptables -m string failed"
		return
	fi
	ha_client $name login wait:sent pasv-send wait:failover pasv-read \
		retr noop quit
	ha_at $name sent && ha_wait_synced ct "dport=21 "
	ha_go sent
	for i in $(seq 50); do
		grep -q 'PASV' "$FTP_STATE_DIR"/vsftpd-21-v4.log && break
		sleep 0.1
	done
	ha_at $name failover && ha_failover 1
	ha_go failover
	ha_client_done $name
	result "$name: PASV through fw1, 227 and data through fw2" $?
	check_committed $name "$CTRL_RE"
	check_eq "$name: fw2 refused no reply" \
		"$(stat_get refused_unpaired $FW2_NS)" 0
	in_ns $FW2_NS iptables -t raw -D PREROUTING -i eth-c -p tcp \
		--dport 21 -m string --algo bm --string "PASV" -j DROP
}

ha_case_snat()		# 4
{
	local name=snat

	ha_setup snat 1 || { not_ok "$name: setup"; return; }
	ha_client $name login listen port retr-active get:pasv noop \
		wait:failover noop get:port noop get:pasv noop quit
	ha_at $name failover && ha_wait_synced ct "dport=21 " &&
		ha_failover 1
	ha_go failover
	ha_client_done $name
	result "$name: length-changing PORT rewrite, then failover, then more" $?
	check_committed $name "$CTRL_SNAT_RE"
	# A 227 under SNAT goes through the NAT module too, unchanged.
	check_eq "$name: fw1 rewrote the first PORT and 227" \
		"$(stat_get nat_rewrites $FW1_NS)" 2
	check_eq "$name: fw2 rewrote the second PORT and 227" \
		"$(stat_get nat_rewrites $FW2_NS)" 2
}

ha_case_split()		# 5
{
	local name=split i held cmds want

	ha_setup snat 1 || { not_ok "$name: setup"; return; }
	# The head comes again with the client's retransmission timer, which
	# doubles every time: give the line time to get through.
	HA_TIMEOUT=60 ha_client $name login listen wait:sync port-head \
		wait:failover port-tail noop get:port noop quit
	ha_at $name sync && ha_wait_synced ct "dport=21 "
	ha_go sync
	ha_at $name failover
	for i in $(seq 50); do
		held=$(stat_get nat_segments_held_back $FW1_NS)
		[ "${held:-0}" -gt 0 ] && break
		sleep 0.1
	done
	ha_failover 1
	ha_go failover
	ha_client_done $name
	result "$name: session goes on after a PORT split across the failover" $?
	check_committed $name "$CTRL_SNAT_RE"
	# Every byte once, in order: vsftpd got the line whole, rewritten or
	# as sent, and the commands after it unshifted.
	cmds=$(sed -n 's/.*FTP command: Client "[^"]*", "\(.*\)"$/\1/p' \
		"$FTP_STATE_DIR"/vsftpd-21-v4.log | tr '\n' ';' |
		sed -E -e 's/PORT 192,0,2,2,[0-9]+,[0-9]+;/SENT;/' \
		       -e 's/PORT 198,51,100,1,[0-9]+,[0-9]+;/REWRITTEN;/g')
	case $cmds in
	*"TYPE I;SENT;NOOP;REWRITTEN;RETR "*";NOOP;QUIT;")
		ok "$name: the line reached the server once, as sent, then the rest"
		diag "the line went unrewritten (counted): after the failover" \
			"the client, in loss recovery, sends its head alone" \
			"until it is acknowledged" ;;
	*"TYPE I;REWRITTEN;NOOP;REWRITTEN;RETR "*";NOOP;QUIT;")
		ok "$name: the line reached the server once, rewritten, then the rest" ;;
	*)
		not_ok "$name: the line reached the server once, then the rest"
		diag "commands vsftpd got: $cmds" ;;
	esac
	# Each PORT line was rewritten or counted as let go, by one of the
	# two: fw1 lets the split line go if the client sent its head a
	# third time before the failover (a slow one), else fw2 does.
	want=0
	for i in $FW1_NS $FW2_NS; do
		want=$((want + $(stat_get nat_rewrites $i) +
			$(stat_get nat_lines_passed_unrewritten $i)))
	done
	check_eq "$name: both PORT lines rewritten or counted as let go" "$want" 2
}

# ha_keep_length 0|1: nf_nat_ftp's keep_length, in every namespace.
ha_keep_length()
{
	echo "$1" > /sys/module/nf_nat_ftp/parameters/keep_length
}

# Case 7, once with keep_length=0 and once with 1: conntrackd on fw1 dies
# after the control connection was synced, before the PORT; the backup
# never hears of what the rewrite did.
ha_case_window_run()	# KEEP
{
	local keep=$1 name=window-keep$1 line sent got

	ha_setup snat 1 || { not_ok "$name: setup"; return 1; }
	ha_keep_length "$keep"
	# 156,64: room to keep the length (a low byte of one digit has none).
	ha_client $name --data-port 40000 login listen wait:killed port retr-active \
		wait:failover noop get:pasv noop quit
	ha_at $name killed && ha_wait_synced ct "dport=21 "
	ha_ctd $FW1_NS -k > /dev/null 2>&1
	ha_go killed
	ha_at $name failover && ha_failover 1
	ha_go failover
	ha_client_done $name > "$HA_DIR/$name.diag"
	HA_RC=$?
	ha_keep_length 0
	sent=$(sed -n 's/^line //p' "$HA_DIR/$name.out")
	got=$(sed -n 's/.*FTP command: Client "[^"]*", "\(PORT .*\)"$/\1/p' \
		"$FTP_STATE_DIR"/vsftpd-21-v4.log | head -n 1)
	HA_LEN_SENT=${#sent}
	HA_LEN_GOT=${#got}
	diag "$name: client sent '$sent', server got '$got'"
}

ha_case_window()	# 7
{
	ha_case_window_run 0
	if [ $HA_RC -ne 0 ] && [ "$HA_LEN_GOT" -ne "$HA_LEN_SENT" ]; then
		ok "window: keep_length=0, adjustment not synced: session breaks (the window)"
	else
		not_ok "window: keep_length=0, adjustment not synced: session breaks (the window)" \
			"client exit $HA_RC"
		diag_file "$HA_DIR/window-keep0.diag"
	fi
	ha_case_window_run 1
	if [ $HA_RC -eq 0 ]; then
		ok "window: keep_length=1: the session goes on"
	else
		not_ok "window: keep_length=1: the session goes on"
		diag_file "$HA_DIR/window-keep1.diag" 60
	fi
	check_eq "window: keep_length=1: the server got a PORT as long as the client's" \
		"$HA_LEN_GOT" "$HA_LEN_SENT"
	check_eq "window: keep_length=1: fw1 counted the PORT" \
		"$(stat_get nat_length_kept $FW1_NS)" 1
}

ha_case_noctd()		# 6
{
	local name=noctd rc

	ha_setup none 0 || { not_ok "$name: setup"; return; }
	HA_TIMEOUT=4 ha_client $name login get:pasv wait:failover get:pasv quit
	ha_at $name failover && ha_failover 0
	ha_go failover
	wait $HA_CLIENT_PID
	rc=$?
	if [ $rc -ne 0 ] && grep -q '^ok get:pasv$' "$HA_DIR/$name.out"; then
		ok "$name: without conntrackd the session dies at the failover"
	else
		not_ok "$name: without conntrackd the session dies at the failover" \
			"client exit $rc"
		diag_file "$HA_DIR/$name.out"
	fi
}

ktap_plan 24

if ! helper_available; then
	for i in $(seq 24); do skip "ha" "$(helper_unavailable_reason)"; done
	ktap_finished
fi
if ! command -v conntrackd > /dev/null; then
	for i in $(seq 24); do skip "ha" "no conntrackd (make deps)"; done
	ktap_finished
fi

dmesg_mark
load_ours || { diag "cannot load the modules"; exit $KSFT_FAIL; }

# Case number, function, number of results.
for c in "1 pickup 3" "2 expect 4" "3 reply 3" "4 snat 4" "5 split 4" \
	 "6 noctd 1" "7 window 4"; do
	read -r num fn n <<< "$c"
	if [ -n "${HA_CASES:-}" ] && [[ " $HA_CASES " != *" $num "* ]]; then
		for i in $(seq "$n"); do skip "$fn" "not in HA_CASES"; done
		continue
	fi
	start=$SECONDS
	ha_case_$fn
	diag "case $num ($fn): $((SECONDS - start)) s"
done
check_dmesg "no kernel warnings"

ktap_finished
