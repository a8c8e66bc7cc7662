#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the test rig itself; run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/smoke.sh
#	selftests/vm/run-vm.sh -e FTP_HELPER_IMPL=kernel -- .../smoke.sh
#
# (a) passive IPv4 and (b) EPSV IPv6 downloads work through fw without any
#     firewall rule: the topology, vsftpd and curl are sane;
# (c) with a FORWARD policy of drop that lets in only ESTABLISHED,RELATED
#     and new connections to port 21, and no helper, the data connections
#     are blocked: the negative case the helper tests rely on;
# (d) attaching the "ftp" helper with iptables CT --helper makes passive
#     and active transfers work again, over IPv4 and IPv6;
# (e) the same with an nftables ct helper object.
# (d) and (e) need a helper: ours from the build directory, or the
# kernel's with FTP_HELPER_IMPL=kernel; they are skipped without one.

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

cleanup()
{
	ftpd_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

# fw_forward_ftp_only: drop forwarded traffic except replies/related
# connections and new connections to the FTP control port.
fw_forward_ftp_only()
{
	local ipt

	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -P FORWARD DROP &&
		in_ns $FW_NS $ipt -A FORWARD -m conntrack \
			--ctstate ESTABLISHED,RELATED -j ACCEPT &&
		in_ns $FW_NS $ipt -A FORWARD -p tcp --dport $FTP_PORT \
			-m conntrack --ctstate NEW -j ACCEPT || return 1
	done
}

# fw_attach_helper: iptables CT target in raw PREROUTING.
fw_attach_helper()
{
	local ipt

	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -t raw -A PREROUTING -p tcp \
			--dport $FTP_PORT -j CT --helper ftp || return 1
	done
}

# fw_nft_helper: the same policy and helper with nftables only.
fw_nft_helper()
{
	in_ns $FW_NS nft -f - <<-EOF
	table inet vmtest {
		ct helper ftp-std {
			type "ftp" protocol tcp
		}
		chain vmtest_pre {
			type filter hook prerouting priority filter; policy accept;
			tcp dport $FTP_PORT ct helper set "ftp-std"
		}
		chain vmtest_fwd {
			type filter hook forward priority filter; policy drop;
			ct state established,related accept
			tcp dport $FTP_PORT ct state new accept
		}
	}
	EOF
}

ktap_plan 20
dmesg_mark

# --- setup -----------------------------------------------------------------
check_cmd "setup: topology" topo_setup
check_cmd "setup: cli reaches srv" topo_ping
check_cmd "setup: vsftpd IPv4" ftpd_start $FTP_PORT v4
check_cmd "setup: vsftpd IPv6" ftpd_start $FTP_PORT v6

# --- (a), (b): no firewall --------------------------------------------------
check_ftp "no firewall: PASV IPv4" pasv v4 $SRV_IP4
check_ftp "no firewall: EPSV IPv6" epsv v6 $SRV_IP6

# --- (c): data connections blocked without a helper --------------------------
fw_forward_ftp_only || diag "installing the FORWARD rules failed"
check_ftp_blocked "no helper: PASV IPv4 blocked" pasv v4 $SRV_IP4
check_ftp_blocked "no helper: PORT IPv4 blocked" port v4 $SRV_IP4
check_ftp_blocked "no helper: EPSV IPv6 blocked" epsv v6 $SRV_IP6

# --- (d), (e): helper attached -------------------------------------------------
names=(
	"helper: modules loaded ($FTP_HELPER_IMPL)"
	"iptables helper: PASV IPv4"
	"iptables helper: EPSV IPv4"
	"iptables helper: PORT IPv4"
	"iptables helper: EPRT IPv4"
	"iptables helper: EPSV IPv6"
	"iptables helper: EPRT IPv6"
	"nft helper: PASV IPv4"
	"nft helper: EPRT IPv6"
)
if ! helper_available; then
	for name in "${names[@]}"; do
		skip "$name" "$(helper_unavailable_reason)"
	done
elif ! run_logged load_ours; then
	for name in "${names[@]}"; do
		not_ok "$name" "cannot load the helper modules"
	done
else
	ok "${names[0]}"
	fw_attach_helper || diag "attaching the helper failed"
	check_ftp "${names[1]}" pasv v4 $SRV_IP4
	check_ftp "${names[2]}" epsv v4 $SRV_IP4
	check_ftp "${names[3]}" port v4 $SRV_IP4
	check_ftp "${names[4]}" eprt v4 $SRV_IP4
	check_ftp "${names[5]}" epsv v6 $SRV_IP6
	check_ftp "${names[6]}" eprt v6 $SRV_IP6

	fw_reset
	fw_nft_helper || diag "loading the nft ruleset failed"
	check_ftp "${names[7]}" pasv v4 $SRV_IP4
	check_ftp "${names[8]}" eprt v6 $SRV_IP6
fi

# --- teardown ------------------------------------------------------------------
ftpd_stop
topo_cleanup
if helper_available; then
	check_cmd "helper: modules unloaded" unload_ours
else
	skip "helper: modules unloaded" "$(helper_unavailable_reason)"
fi
check_dmesg "kernel log clean"

ktap_finished
