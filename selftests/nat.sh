#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT: nf_nat_ftp rewrites PORT, EPRT, 227 and 229 when the control
# connection is NATed, and the data connections follow the master's NAT.
# Run it in the VM:  selftests/vm/run-vm.sh -- /work/main/selftests/nat.sh
#
# Every case is set up so that only correct rewriting works:
#  - SNAT (masquerade, client hidden): srv has no route back to the client
#    network, and vsftpd refuses a PORT/EPRT address that is not its peer's;
#  - DNAT (server hidden): the client has no route to the server network,
#    and curl really connects to the address in the 227;
# and each family has a negative control: without nf_nat_ftp, the same
# transfer fails.  A retransmitted PORT (the first copy dropped after the
# firewall) must be rewritten again.  With nf_nat_ftp keep_length=1 the
# rewritten PORT is as long as the client's, and a 227 whose length no
# port can keep still works.

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

cleanup()
{
	ftpd_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

NAT_KO=$FTP_HELPER_BUILD_DIR/nf_nat_ftp.ko
[ "$FTP_HELPER_IMPL" = kernel ] && NAT_KO=$(modinfo -n nf_nat_ftp)

counter()	# counter NAME: a counter of fw's namespace
{
	in_ns $FW_NS awk -v n="$1" '$1 == n { print $2 }' \
		/proc/net/nf_conntrack_ftp
}

# fw_policy IPT: drop forwarded traffic but replies, related connections
# and new control connections; attach the helper to port 21.
fw_policy()
{
	local ipt=$1

	in_ns $FW_NS $ipt -t raw -A PREROUTING -p tcp --dport $FTP_PORT \
		-j CT --helper ftp &&
	in_ns $FW_NS $ipt -P FORWARD DROP &&
	in_ns $FW_NS $ipt -A FORWARD -m conntrack \
		--ctstate ESTABLISHED,RELATED -j ACCEPT &&
	in_ns $FW_NS $ipt -A FORWARD -p tcp --dport $FTP_PORT \
		-m conntrack --ctstate NEW -j ACCEPT
}

# setup_snat FAMILY: client behind masquerade, server cannot reach it.
setup_snat()
{
	local ipt=iptables

	[ "$1" = v6 ] && ipt=ip6tables
	topo_setup --no-srv-route &&
	ftpd_start $FTP_PORT "$1" &&
	fw_policy $ipt &&
	in_ns $FW_NS $ipt -t nat -A POSTROUTING -o $FW_SRV_IF -j MASQUERADE
}

# setup_dnat FAMILY: server behind DNAT on fw's client-side address, the
# client cannot reach the server network.
setup_dnat()
{
	local ipt=iptables to=$SRV_IP4 vip=$FW_CLI_IP4

	if [ "$1" = v6 ]; then
		ipt=ip6tables
		to=$SRV_IP6
		vip=$FW_CLI_IP6
	fi
	topo_setup --no-cli-route &&
	ftpd_start $FTP_PORT "$1" &&
	fw_policy $ipt &&
	in_ns $FW_NS $ipt -t nat -A PREROUTING -d $vip -p tcp \
		--dport $FTP_PORT -j DNAT --to-destination $to
}

# without_nat_helper NAME MODE FAMILY SERVER: the transfer fails while
# nf_nat_ftp is unloaded (the conntrack helper alone cannot translate).
without_nat_helper()
{
	local name=$1

	shift
	if ! rmmod nf_nat_ftp; then
		not_ok "$name" "cannot unload nf_nat_ftp"
		return
	fi
	if FTP_MAX_TIME=$FTP_BLOCKED_MAX_TIME ftp_ok "$@"; then
		not_ok "$name" "transfer worked without the NAT helper"
	else
		ok "$name"
	fi
	insmod "$NAT_KO" || diag "cannot reload $NAT_KO"
}

ktap_plan 22

if ! helper_available; then
	for i in $(seq 22); do
		skip "nat $i" "$(helper_unavailable_reason)"
	done
	ktap_finished
fi
dmesg_mark
load_ours "" || { diag "cannot load the modules"; exit $KSFT_FAIL; }

# --- SNAT, IPv4: active mode --------------------------------------------
setup_snat v4 || diag "SNAT v4 setup failed"
before=$(counter nat_rewrites)
check_ftp "SNAT v4: PORT rewritten, active transfer works" port v4 $SRV_IP4
check_ftp "SNAT v4: EPRT |1| rewritten, active transfer works" eprt v4 $SRV_IP4
check_ftp "SNAT v4: passive (227) through masquerade" pasv v4 $SRV_IP4
after=$(counter nat_rewrites)
if [ "${after:-0}" -ge $((${before:-0} + 3)) ]; then
	ok "SNAT v4: nat_rewrites counted ($before -> $after)"
else
	not_ok "SNAT v4: nat_rewrites counted" "$before -> $after"
fi
without_nat_helper "SNAT v4: PORT fails without nf_nat_ftp" port v4 $SRV_IP4

# The first rewritten PORT is lost after the firewall; the client's
# retransmission must be rewritten the same way.
in_ns $SRV_NS iptables -A INPUT -p tcp --dport $FTP_PORT \
	-m string --algo bm --string "PORT $(echo $FW_SRV_IP4 | tr . ,)," \
	-m statistic --mode nth --every 10000 --packet 0 -j DROP
check_ftp "SNAT v4: retransmitted PORT rewritten again" port v4 $SRV_IP4
dropped=$(in_ns $SRV_NS iptables -L INPUT -v -x -n | awk '/statistic/ { print $1 }')
if [ "$dropped" = 1 ]; then
	ok "SNAT v4: the first PORT was really lost (dropped $dropped)"
else
	not_ok "SNAT v4: the first PORT was really lost" "dropped '$dropped'"
fi
in_ns $SRV_NS iptables -F INPUT

# nf_nat_ftp keep_length=1: a data port whose digits keep the line as
# long as the client's (192,0,2,2 -> 198,51,100,1 is 3 longer).
echo 1 > /sys/module/nf_nat_ftp/parameters/keep_length
kept=$(counter nat_length_kept)
# A data port whose text ("156,64") leaves room: one whose low byte has one
# digit could not be kept (192,0,2,2,P,9 needs a port part of 2 characters).
FTP_ACTIVE_PORT=40000 check_ftp \
	"SNAT v4 keep_length: PORT rewritten, active transfer works" \
	port v4 $SRV_IP4
sent=$(sed -n 's/^> \(PORT .*\)\r\?$/\1/p' "$FTP_CLIENT_LOG" | tr -d '\r' | tail -n 1)
got=$(sed -n 's/.*FTP command: Client "[^"]*", "\(PORT .*\)"$/\1/p' \
	"$FTP_STATE_DIR/vsftpd-$FTP_PORT-v4.log" | tail -n 1)
if [ -n "$sent" ] && [ "${got#PORT 198,51,100,1,}" != "$got" ] &&
   [ ${#got} -eq ${#sent} ]; then
	ok "SNAT v4 keep_length: the server got a PORT as long as the client's"
else
	not_ok "SNAT v4 keep_length: the server got a PORT as long as the client's" \
		"sent '$sent', got '$got'"
fi
check_eq "SNAT v4 keep_length: nat_length_kept counted it" \
	"$(counter nat_length_kept)" $((kept + 1))
echo 0 > /sys/module/nf_nat_ftp/parameters/keep_length
ftpd_stop

# --- DNAT, IPv4: passive mode -------------------------------------------
setup_dnat v4 || diag "DNAT v4 setup failed"
check_ftp "DNAT v4: 227 rewritten, passive transfer works" pasv v4 $FW_CLI_IP4
check_ftp "DNAT v4: 229 port, data connection follows DNAT" epsv v4 $FW_CLI_IP4
without_nat_helper "DNAT v4: PASV fails without nf_nat_ftp" pasv v4 $FW_CLI_IP4
# 198,51,100,2 -> 192,0,2,1 is 3 shorter, more than the port part of a
# 227 can make up for: keep_length falls back to the usual choice.
echo 1 > /sys/module/nf_nat_ftp/parameters/keep_length
kept=$(counter nat_length_kept)
check_ftp "DNAT v4 keep_length: 227 that cannot keep its length: transfer works" \
	pasv v4 $FW_CLI_IP4
check_eq "DNAT v4 keep_length: not counted as kept" \
	"$(counter nat_length_kept)" "${kept:-no counter}"
echo 0 > /sys/module/nf_nat_ftp/parameters/keep_length
ftpd_stop

# --- IPv6 NAT ------------------------------------------------------------
setup_snat v6 || diag "SNAT v6 setup failed"
check_ftp "SNAT v6: EPRT |2| rewritten, active transfer works" eprt v6 $SRV_IP6
without_nat_helper "SNAT v6: EPRT fails without nf_nat_ftp" eprt v6 $SRV_IP6
ftpd_stop

setup_dnat v6 || diag "DNAT v6 setup failed"
check_ftp "DNAT v6: 229, data connection follows DNAT" epsv v6 $FW_CLI_IP6
without_nat_helper "DNAT v6: EPSV fails without nf_nat_ftp" epsv v6 $FW_CLI_IP6
ftpd_stop

# --- nftables only: ct helper object and nft masquerade ------------------
topo_setup --no-srv-route
ftpd_start $FTP_PORT v4
if in_ns $FW_NS nft -f - <<EOF
table inet t {
	ct helper ftp-std {
		type "ftp" protocol tcp
		l3proto inet
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport $FTP_PORT ct helper set "ftp-std"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		tcp dport $FTP_PORT ct state new accept
	}
}
table ip n {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$FW_SRV_IF" masquerade
	}
}
EOF
then
	ok "nft: ruleset with ct helper object and masquerade loaded"
else
	not_ok "nft: ruleset with ct helper object and masquerade loaded"
fi
check_ftp "nft SNAT v4: PORT rewritten, active transfer works" port v4 $SRV_IP4
ftpd_stop

if dmesg_clean; then
	ok "kernel log clean"
else
	not_ok "kernel log clean"
fi
ktap_finished
