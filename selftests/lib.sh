#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the FTP conntrack helper selftests.  Source it from a
# test that runs INSIDE the VM as root (see vm/run-vm.sh):
#
#	source "$(dirname "$0")/lib.sh"
#
# It provides:
#  - KTAP output: ktap_plan, ok, not_ok, skip, diag, ktap_finished, and
#    check_* wrappers that run a command and print the result line;
#  - a three namespace topology (topo_setup, topo_cleanup):
#
#	cli 192.0.2.2/24      <-> fw 192.0.2.1/24      (veth, eth0 <-> veth-cli)
#	    2001:db8:1::2/64         2001:db8:1::1/64
#	fw  198.51.100.1/24   <-> srv 198.51.100.2/24  (veth, veth-srv <-> eth0)
#	    2001:db8:2::1/64         2001:db8:2::2/64
#
#  - an anonymous vsftpd in srv (ftpd_start, ftpd_stop) serving one file of
#    random data whose sha256 is known (ftp_expected_sha256);
#  - curl based clients in cli (ftp_get, check_ftp, check_ftp_blocked);
#  - loading the helper modules under test (load_ours, unload_ours);
#  - kernel log checks (dmesg_mark, dmesg_clean, check_dmesg).
#
# Do not use "set -e" in tests: helpers report failure by their status.
#
# Environment:
#	FTP_HELPER_IMPL		"ours" (default) or "kernel": load the kernel's
#				own nf_conntrack_ftp/nf_nat_ftp instead; only
#				for checking the tests themselves
#	FTP_HELPER_BUILD_DIR	where our .ko files are
#				(default: <repo>/build/$(uname -r))
#	FTP_MAX_TIME		curl --max-time for one transfer (default: 15)
#	FTP_BLOCKED_MAX_TIME	the same for transfers expected to fail
#				(default: 8)
#	FTP_ACTIVE_PORT		the client's data port for PORT (IPv4;
#				default: curl picks one)

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LIB_DIR/.." && pwd)

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# --- topology ------------------------------------------------------------

CLI_NS=cli
FW_NS=fw
SRV_NS=srv

CLI_IF=eth0
SRV_IF=eth0
FW_CLI_IF=veth-cli
FW_SRV_IF=veth-srv

CLI_IP4=192.0.2.2
FW_CLI_IP4=192.0.2.1
FW_SRV_IP4=198.51.100.1
SRV_IP4=198.51.100.2
CLI_NET4=192.0.2.0/24
SRV_NET4=198.51.100.0/24

CLI_IP6=2001:db8:1::2
FW_CLI_IP6=2001:db8:1::1
FW_SRV_IP6=2001:db8:2::1
SRV_IP6=2001:db8:2::2
CLI_NET6=2001:db8:1::/64
SRV_NET6=2001:db8:2::/64

# --- FTP server ----------------------------------------------------------

FTP_PORT=21
FTP_PASV_MIN=40000
FTP_PASV_MAX=40099
FTP_STATE_DIR=/tmp/vmtest-ftp
FTP_ROOT=$FTP_STATE_DIR/root
FTP_FILE=testfile.bin
FTP_FILE_KIB=384
FTP_CLIENT_LOG=$FTP_STATE_DIR/curl.log
FTP_MAX_TIME=${FTP_MAX_TIME:-15}
FTP_BLOCKED_MAX_TIME=${FTP_BLOCKED_MAX_TIME:-8}

FTP_HELPER_IMPL=${FTP_HELPER_IMPL:-ours}
FTP_HELPER_BUILD_DIR=${FTP_HELPER_BUILD_DIR:-$REPO_DIR/build/$(uname -r)}

# =========================================================================
# KTAP output
# =========================================================================

__ktap_planned=
__ktap_num=0
__ktap_pass=0
__ktap_fail=0
__ktap_skip=0

# ktap_plan N: print the header and the number of tests to come.
ktap_plan()
{
	__ktap_planned=$1
	echo "KTAP version 1"
	echo "1..$1"
}

# diag TEXT...: a diagnostic line; each line of TEXT gets a "# " prefix.
diag()
{
	printf '%s\n' "$*" | sed 's/^/# /'
}

# diag_file FILE [LINES]: the last LINES (default 20) lines of FILE.
diag_file()
{
	[ -s "$1" ] || return 0
	tail -n "${2:-20}" "$1" | sed 's/^/#   /'
}

ok()
{
	__ktap_num=$((__ktap_num + 1))
	__ktap_pass=$((__ktap_pass + 1))
	echo "ok $__ktap_num - $1"
}

# not_ok NAME [REASON]
not_ok()
{
	__ktap_num=$((__ktap_num + 1))
	__ktap_fail=$((__ktap_fail + 1))
	if [ -n "${2:-}" ]; then
		echo "not ok $__ktap_num - $1 # $2"
	else
		echo "not ok $__ktap_num - $1"
	fi
}

# skip NAME [WHY]
skip()
{
	__ktap_num=$((__ktap_num + 1))
	__ktap_skip=$((__ktap_skip + 1))
	echo "ok $__ktap_num - $1 # SKIP ${2:-}"
}

# result NAME STATUS [REASON]: ok when STATUS is 0, else not_ok.
result()
{
	if [ "$2" -eq 0 ]; then
		ok "$1"
	else
		not_ok "$1" "${3:-}"
	fi
}

# ktap_finished: print the totals and exit with the kselftest status:
# 1 if anything failed or the plan was not met, 4 if everything was
# skipped, else 0.
ktap_finished()
{
	local rc=$KSFT_PASS

	echo "# Totals: pass:$__ktap_pass fail:$__ktap_fail xfail:0 xpass:0 skip:$__ktap_skip error:0"
	if [ -n "$__ktap_planned" ] && [ "$__ktap_num" -ne "$__ktap_planned" ]; then
		echo "# Planned $__ktap_planned tests but ran $__ktap_num"
		rc=$KSFT_FAIL
	fi
	if [ $__ktap_fail -ne 0 ]; then
		rc=$KSFT_FAIL
	elif [ $__ktap_pass -eq 0 ] && [ $__ktap_skip -ne 0 ]; then
		rc=$KSFT_SKIP
	fi
	exit $rc
}

# run_logged CMD...: run CMD with its output saved; on failure print the
# tail of that output as diagnostics.  Returns CMD's status.
run_logged()
{
	local out rc

	out=$(mktemp /tmp/vmtest-cmd.XXXXXX)
	"$@" > "$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		diag "command failed ($rc): $*"
		diag_file "$out"
	fi
	rm -f "$out"
	return $rc
}

# check_cmd NAME CMD...: ok if CMD succeeds.
check_cmd()
{
	local name=$1 rc

	shift
	run_logged "$@"
	rc=$?
	result "$name" $rc "exit status $rc"
}

# check_fail NAME CMD...: ok if CMD fails.
check_fail()
{
	local name=$1

	shift
	if "$@" > /dev/null 2>&1; then
		not_ok "$name" "unexpected success: $*"
	else
		ok "$name"
	fi
}

# check_eq NAME GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got '$2', want '$3'"
	fi
}

# require_vm: leave (as skipped) unless we run as root inside the test VM.
require_vm()
{
	if [ "${VMTEST:-}" != 1 ] || [ "$(id -u)" != 0 ]; then
		echo "# run this inside the VM: selftests/vm/run-vm.sh -- $0" >&2
		exit $KSFT_SKIP
	fi
}

# =========================================================================
# Topology
# =========================================================================

# in_ns NS CMD...: run CMD in namespace NS.
in_ns()
{
	local ns=$1

	shift
	ip netns exec "$ns" "$@"
}

# __ns_add NS: a namespace with loopback up and no IPv6 DAD, so that
# addresses are usable at once.
__ns_add()
{
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up
	in_ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.dad_transmits=0
}

# topo_setup [--no-srv-route] [--no-cli-route]
#	--no-srv-route	srv has no route back to cli's networks (for DNAT
#			tests: only correctly rewritten traffic works)
#	--no-cli-route	cli has no route to srv's networks (for SNAT tests)
topo_setup()
{
	local srv_route=1 cli_route=1 ns

	while [ $# -gt 0 ]; do
		case $1 in
		--no-srv-route)	srv_route=0 ;;
		--no-cli-route)	cli_route=0 ;;
		*)	echo "topo_setup: unknown option $1" >&2; return 1 ;;
		esac
		shift
	done

	topo_cleanup
	for ns in $CLI_NS $FW_NS $SRV_NS; do
		__ns_add $ns || return 1
	done

	ip link add $CLI_IF netns $CLI_NS type veth \
		peer name $FW_CLI_IF netns $FW_NS || return 1
	ip link add $SRV_IF netns $SRV_NS type veth \
		peer name $FW_SRV_IF netns $FW_NS || return 1

	ip -n $CLI_NS addr add $CLI_IP4/24 dev $CLI_IF
	ip -n $CLI_NS addr add $CLI_IP6/64 dev $CLI_IF nodad
	ip -n $FW_NS addr add $FW_CLI_IP4/24 dev $FW_CLI_IF
	ip -n $FW_NS addr add $FW_CLI_IP6/64 dev $FW_CLI_IF nodad
	ip -n $FW_NS addr add $FW_SRV_IP4/24 dev $FW_SRV_IF
	ip -n $FW_NS addr add $FW_SRV_IP6/64 dev $FW_SRV_IF nodad
	ip -n $SRV_NS addr add $SRV_IP4/24 dev $SRV_IF
	ip -n $SRV_NS addr add $SRV_IP6/64 dev $SRV_IF nodad

	ip -n $CLI_NS link set $CLI_IF up
	ip -n $FW_NS link set $FW_CLI_IF up
	ip -n $FW_NS link set $FW_SRV_IF up
	ip -n $SRV_NS link set $SRV_IF up

	in_ns $FW_NS sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1
	# vsftpd's IPv6 socket would take IPv4 too and keep an IPv4 vsftpd
	# from binding the same port.
	in_ns $SRV_NS sysctl -qw net.ipv6.bindv6only=1 || return 1

	if [ $cli_route = 1 ]; then
		ip -n $CLI_NS route add default via $FW_CLI_IP4 || return 1
		ip -n $CLI_NS -6 route add default via $FW_CLI_IP6 || return 1
	fi
	if [ $srv_route = 1 ]; then
		ip -n $SRV_NS route add default via $FW_SRV_IP4 || return 1
		ip -n $SRV_NS -6 route add default via $FW_SRV_IP6 || return 1
	fi
	return 0
}

# topo_cleanup: remove the namespaces (and with them the veths and the
# namespaces' firewall rules and conntrack entries).
topo_cleanup()
{
	local ns

	for ns in $CLI_NS $FW_NS $SRV_NS; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# topo_ping: can cli reach srv over both families?
topo_ping()
{
	in_ns $CLI_NS ping -q -c 1 -W 2 $SRV_IP4 > /dev/null &&
		in_ns $CLI_NS ping -q -c 1 -W 2 $SRV_IP6 > /dev/null
}

# fw_reset: flush every rule and the conntrack table in fw.
fw_reset()
{
	local ipt

	in_ns $FW_NS nft flush ruleset
	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -P FORWARD ACCEPT 2>/dev/null
	done
	in_ns $FW_NS conntrack -F > /dev/null 2>&1
	in_ns $FW_NS conntrack -F expect > /dev/null 2>&1
	return 0
}

# =========================================================================
# FTP server
# =========================================================================

# __ftp_users: vsftpd needs its anonymous user and an unprivileged user.
__ftp_users()
{
	getent passwd ftp > /dev/null ||
		useradd --system --no-create-home --home-dir /srv/ftp \
			--shell /usr/sbin/nologin ftp || return 1
	getent passwd nobody > /dev/null ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin nobody || return 1
}

# __ftp_data: the served directory (root owned, as vsftpd wants it) with
# one file of random data, made once per boot.
__ftp_data()
{
	[ -s "$FTP_STATE_DIR/sha256" ] && return 0
	mkdir -p "$FTP_ROOT" "$FTP_STATE_DIR/empty" || return 1
	chmod 0755 "$FTP_STATE_DIR" "$FTP_ROOT" "$FTP_STATE_DIR/empty"
	head -c $((FTP_FILE_KIB * 1024)) /dev/urandom > "$FTP_ROOT/$FTP_FILE" ||
		return 1
	chmod 0644 "$FTP_ROOT/$FTP_FILE"
	sha256sum "$FTP_ROOT/$FTP_FILE" | cut -d' ' -f1 > "$FTP_STATE_DIR/sha256"
}

# ftp_expected_sha256: the sha256 of the served file.
ftp_expected_sha256()
{
	cat "$FTP_STATE_DIR/sha256"
}

# ftpd_start [PORT] [v4|v6]: start vsftpd in srv on PORT (default 21) for
# one address family (default v4).  Several may run on different ports or
# families.  Its log is $FTP_STATE_DIR/vsftpd-PORT-FAMILY.log.
ftpd_start()
{
	local port=${1:-$FTP_PORT} family=${2:-v4} listen4 listen6
	local ss_family=-${family#v}
	local name conf log i

	case $family in
	v4)	listen4=YES; listen6=NO ;;
	v6)	listen4=NO; listen6=YES ;;
	*)	echo "ftpd_start: bad family $family" >&2; return 1 ;;
	esac
	__ftp_users || return 1
	__ftp_data || return 1

	name=vsftpd-$port-$family
	conf=$FTP_STATE_DIR/$name.conf
	log=$FTP_STATE_DIR/$name.log
	sed -e "s|@LISTEN@|$listen4|" \
	    -e "s|@LISTEN_IPV6@|$listen6|" \
	    -e "s|@PORT@|$port|" \
	    -e "s|@ANON_ROOT@|$FTP_ROOT|" \
	    -e "s|@FTP_USER@|ftp|" \
	    -e "s|@NOPRIV_USER@|nobody|" \
	    -e "s|@SECURE_CHROOT_DIR@|$FTP_STATE_DIR/empty|" \
	    -e "s|@PASV_MIN_PORT@|$FTP_PASV_MIN|" \
	    -e "s|@PASV_MAX_PORT@|$FTP_PASV_MAX|" \
	    -e "s|@LOG_FILE@|$log|" \
	    "$LIB_DIR/vsftpd/vsftpd.conf.in" > "$conf" || return 1
	# vsftpd insists on a root owned configuration file.
	chown root:root "$conf"
	chmod 0600 "$conf"
	: > "$log"

	# Not through in_ns: a function in the background is a subshell, and
	# $! would be that, not vsftpd ("ip netns exec" execs it).
	ip netns exec "$SRV_NS" vsftpd "$conf" > "$log.stderr" 2>&1 &
	echo $! > "$FTP_STATE_DIR/$name.pid"

	# Wait until it listens.
	for i in $(seq 50); do
		if [ -n "$(in_ns $SRV_NS ss -Hltn $ss_family "sport = :$port")" ]; then
			return 0
		fi
		if ! kill -0 "$(cat "$FTP_STATE_DIR/$name.pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	diag "vsftpd on port $port ($family) did not start:"
	diag_file "$log.stderr"
	diag_file "$log"
	return 1
}

# ftpd_stop: stop every vsftpd started by ftpd_start.
ftpd_stop()
{
	local pidfile pid

	for pidfile in "$FTP_STATE_DIR"/vsftpd-*.pid; do
		[ -f "$pidfile" ] || continue
		pid=$(cat "$pidfile")
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		rm -f "$pidfile"
	done
	return 0
}

# =========================================================================
# FTP client
# =========================================================================

# ftp_get MODE FAMILY SERVER [PORT]: download the test file with curl from
# cli and print its sha256.  Returns curl's status (28: timed out).
#	MODE	pasv: PASV only, and curl really uses the 227 address
#		epsv: EPSV (curl falls back to PASV if refused)
#		port: PORT (IPv6 always uses EPRT: PORT cannot carry it)
#		eprt: EPRT (curl falls back to PORT if refused)
#	FAMILY	v4 or v6; selects cli's address for the active modes
# The verbose curl log is left in $FTP_CLIENT_LOG; FTP_MAX_TIME bounds
# the whole transfer.
ftp_get()
{
	local mode=$1 family=$2 server=$3 port=${4:-$FTP_PORT}
	local host cli out rc
	local -a flags

	case $family in
	v4)	host=$server; cli=$CLI_IP4 ;;
	v6)	host="[$server]"; cli=$CLI_IP6 ;;
	*)	echo "ftp_get: bad family $family" >&2; return 2 ;;
	esac
	case $mode in
	pasv)	flags=(--ftp-pasv --disable-epsv --no-ftp-skip-pasv-ip) ;;
	epsv)	flags=(--ftp-pasv) ;;
	port)	flags=(--ftp-port "$cli${FTP_ACTIVE_PORT:+:$FTP_ACTIVE_PORT}" --disable-eprt) ;;
	eprt)	flags=(--ftp-port "$cli") ;;
	*)	echo "ftp_get: bad mode $mode" >&2; return 2 ;;
	esac

	mkdir -p "$FTP_STATE_DIR"
	out=$(mktemp "$FTP_STATE_DIR/download.XXXXXX")
	in_ns $CLI_NS curl --silent --show-error --verbose --globoff \
		--max-time "$FTP_MAX_TIME" --connect-timeout 5 \
		"${flags[@]}" --output "$out" \
		"ftp://$host:$port/$FTP_FILE" > "$FTP_CLIENT_LOG" 2>&1
	rc=$?
	[ $rc -eq 0 ] && sha256sum "$out" | cut -d' ' -f1
	rm -f "$out"
	return $rc
}

# ftp_ok MODE FAMILY SERVER [PORT]: the download works and is intact.
ftp_ok()
{
	local sha

	sha=$(ftp_get "$@") || return 1
	[ "$sha" = "$(ftp_expected_sha256)" ]
}

# check_ftp NAME MODE FAMILY SERVER [PORT]: ok if the download works and
# the data is intact.
check_ftp()
{
	local name=$1 sha rc

	shift
	sha=$(ftp_get "$@")
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "$name" "curl exit $rc"
		diag_file "$FTP_CLIENT_LOG" 12
	elif [ "$sha" != "$(ftp_expected_sha256)" ]; then
		not_ok "$name" "data corrupted (sha256 $sha)"
	else
		ok "$name"
	fi
}

# check_ftp_blocked NAME MODE FAMILY SERVER [PORT]: ok if the control
# connection works (the server answers the data command) but the data
# transfer does not.  FTP_BLOCKED_MAX_TIME bounds the attempt.
check_ftp_blocked()
{
	local name=$1 sha rc

	shift
	sha=$(FTP_MAX_TIME=$FTP_BLOCKED_MAX_TIME ftp_get "$@")
	rc=$?
	if [ $rc -eq 0 ]; then
		not_ok "$name" "transfer succeeded (sha256 $sha)"
	elif ! grep -Eq '^< (200|227|229) ' "$FTP_CLIENT_LOG"; then
		not_ok "$name" "control connection failed too (curl exit $rc)"
		diag_file "$FTP_CLIENT_LOG" 12
	else
		ok "$name"
	fi
}

# =========================================================================
# Modules under test
# =========================================================================

# ours_available [DIR]: are our two modules built for this kernel?
ours_available()
{
	local dir=${1:-$FTP_HELPER_BUILD_DIR}

	[ -f "$dir/nf_conntrack_ftp.ko" ] && [ -f "$dir/nf_nat_ftp.ko" ]
}

# helper_available: can load_ours load something?
helper_available()
{
	[ "$FTP_HELPER_IMPL" = kernel ] || ours_available
}

# helper_unavailable_reason: why helper_available failed, for skip lines.
helper_unavailable_reason()
{
	echo "no nf_conntrack_ftp.ko/nf_nat_ftp.ko in $FTP_HELPER_BUILD_DIR (run make)"
}

__mod_loaded()
{
	[ -d "/sys/module/$1" ]
}

# __rmmod_wait NAME: unload NAME, waiting a little for references that go
# away asynchronously (namespace teardown, conntrack entries).
__rmmod_wait()
{
	local i

	for i in $(seq 50); do
		__mod_loaded "$1" || return 0
		rmmod "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "cannot unload $1:" >&2
	rmmod "$1"
	return 1
}

# __verify_ours NAME KO: is the loaded module NAME the one in file KO?
__verify_ours()
{
	local name=$1 ko=$2 want have taint

	want=$(modinfo -F srcversion "$ko")
	have=$(cat "/sys/module/$name/srcversion" 2>/dev/null)
	if [ -n "$want" ]; then
		if [ "$want" != "$have" ]; then
			echo "$name: loaded srcversion '$have' is not $ko's '$want'" >&2
			return 1
		fi
		return 0
	fi
	# Without MODULE_VERSION() there is no srcversion: at least make
	# sure the loaded module is an out-of-tree one.
	taint=$(cat "/sys/module/$name/taint" 2>/dev/null)
	case $taint in
	*O*)	return 0 ;;
	esac
	echo "$name: loaded module is not out-of-tree (taint '$taint')" >&2
	return 1
}

# __kernel_module_path NAME: the kernel's own module file, found without
# going through modprobe (whose configuration blocks it).
__kernel_module_path()
{
	modinfo -n "$1" 2>/dev/null
}

# load_ours [DIR] [PARAM=VALUE...]: load nf_conntrack_ftp (with PARAMs)
# and nf_nat_ftp from DIR (default $FTP_HELPER_BUILD_DIR; "" also means
# the default) and check that the loaded modules are those files.  With
# FTP_HELPER_IMPL=kernel, load the kernel's own modules instead.
load_ours()
{
	local dir=${1:-$FTP_HELPER_BUILD_DIR} ct_ko nat_ko

	[ $# -gt 0 ] && shift
	modprobe nf_conntrack || return 1
	modprobe nf_nat || return 1
	unload_ours || return 1

	if [ "$FTP_HELPER_IMPL" = kernel ]; then
		ct_ko=$(__kernel_module_path nf_conntrack_ftp)
		nat_ko=$(__kernel_module_path nf_nat_ftp)
	else
		ct_ko=$dir/nf_conntrack_ftp.ko
		nat_ko=$dir/nf_nat_ftp.ko
	fi
	if [ ! -f "$ct_ko" ] || [ ! -f "$nat_ko" ]; then
		echo "load_ours: missing ${ct_ko:-nf_conntrack_ftp} or ${nat_ko:-nf_nat_ftp}" >&2
		return 1
	fi

	insmod "$ct_ko" "$@" || return 1
	if ! insmod "$nat_ko"; then
		rmmod nf_conntrack_ftp
		return 1
	fi

	if [ "$FTP_HELPER_IMPL" != kernel ]; then
		if ! __verify_ours nf_conntrack_ftp "$ct_ko" ||
		   ! __verify_ours nf_nat_ftp "$nat_ko"; then
			unload_ours
			return 1
		fi
	fi
	return 0
}

# unload_ours: unload both helper modules (whoever's they are).
unload_ours()
{
	__rmmod_wait nf_nat_ftp && __rmmod_wait nf_conntrack_ftp
}

# =========================================================================
# Installed modules (install.sh, dkms.sh): which file is loaded
# =========================================================================

# ko_build_id FILE: the GNU build-id of a module file, compressed or not.
ko_build_id()
{
	local tmp

	tmp=$(mktemp /tmp/ko.XXXXXX)
	case $1 in
	*.xz)	xz -dc "$1" ;;
	*.zst)	zstd -qdc "$1" ;;
	*.gz)	gzip -dc "$1" ;;
	*)	cat "$1" ;;
	esac > "$tmp" 2>/dev/null
	readelf -n "$tmp" 2>/dev/null | awk '/Build ID:/ { print $3; exit }'
	rm -f "$tmp"
}

# mod_build_id NAME: the build-id of the loaded module NAME (the note's
# 16-byte header, then the id).
mod_build_id()
{
	local note=/sys/module/$1/notes/.note.gnu.build-id

	[ -r "$note" ] && od -An -v -tx1 -j16 "$note" | tr -d ' \n'
}

# loaded_is NAME FILE: is the loaded module NAME the build in FILE
# (srcversion and build-id)?
loaded_is()
{
	local sf sl bf bl

	sf=$(modinfo -F srcversion "$2" 2>/dev/null)
	sl=$(cat "/sys/module/$1/srcversion" 2>/dev/null)
	bf=$(ko_build_id "$2")
	bl=$(mod_build_id "$1")
	if [ -z "$sf" ] || [ "$sf" != "$sl" ] || [ -z "$bf" ] || [ "$bf" != "$bl" ]; then
		diag "loaded $1: srcversion '$sl' build-id '$bl'"
		diag "$2: srcversion '$sf' build-id '$bf'"
		return 1
	fi
}

# modinfo_is_kernels: both module names resolve to the running kernel's
# own modules.
modinfo_is_kernels()
{
	local m path want rc=0

	for m in nf_conntrack_ftp nf_nat_ftp; do
		path=$(modinfo -n "$m" 2>/dev/null)
		want=/lib/modules/$(uname -r)/kernel/net/netfilter/$m.ko
		case $path in
		"$want"|"$want".*) ;;
		*)	diag "modinfo -n $m: '$path'"; rc=1 ;;
		esac
	done
	return $rc
}

# fw_ftp_helper: fw forwards only replies, related connections and new
# connections to port 21, whose packets get the "ftp" helper.
fw_ftp_helper()
{
	in_ns $FW_NS iptables -t raw -A PREROUTING -p tcp --dport $FTP_PORT \
		-j CT --helper ftp &&
	in_ns $FW_NS iptables -P FORWARD DROP &&
	in_ns $FW_NS iptables -A FORWARD -m conntrack \
		--ctstate ESTABLISHED,RELATED -j ACCEPT &&
	in_ns $FW_NS iptables -A FORWARD -p tcp --dport $FTP_PORT --syn \
		-m conntrack --ctstate NEW -j ACCEPT
}

# check_helper_transfer: one test, a passive transfer from cli to srv
# through fw with fw_ftp_helper's rules, on a topology set up for it and
# torn down after (the CT rule holds the helper's module until then).
check_helper_transfer()
{
	local name="passive transfer through fw with the helper attached"

	if ! topo_setup; then
		not_ok "$name" "topology setup failed"
	elif ! fw_ftp_helper; then
		not_ok "$name" "firewall setup failed"
	elif ! ftpd_start; then
		not_ok "$name" "vsftpd did not start"
	else
		check_ftp "$name" pasv v4 $SRV_IP4
	fi
	ftpd_stop
	topo_cleanup
}

# =========================================================================
# Kernel log
# =========================================================================

DMESG_BAD='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kmemleak|'
DMESG_BAD+='refcount_t|list_add corruption|list_del corruption|'
DMESG_BAD+='RCU stall|rcu_.*self-detected stall|rcu_.*detected stalls|'
DMESG_BAD+='soft lockup|hard LOCKUP|hung_task|blocked for more than|'
DMESG_BAD+='Kernel panic|kernel BUG|Call Trace:|double free|use-after-free|'
DMESG_BAD+='stack-protector|slab-out-of-bounds|page allocation failure|'
DMESG_BAD+='segfault at|unregister_netdevice: waiting|'
DMESG_BAD+='possible circular locking|inconsistent lock state|lockdep'

DMESG_MARK="vmtest: dmesg mark"

# dmesg_mark: dmesg_clean will only look at what comes after this.
dmesg_mark()
{
	echo "$DMESG_MARK $$" > /dev/kmsg
}

# dmesg_clean: succeed if the kernel log (after the last dmesg_mark) has no
# sign of a kernel bug; print the offending lines otherwise.
dmesg_clean()
{
	local bad

	bad=$(dmesg | awk -v mark="$DMESG_MARK" \
		'index($0, mark) { buf = ""; next } { buf = buf $0 "\n" }
		 END { printf "%s", buf }' | grep -E "$DMESG_BAD")
	[ -z "$bad" ] && return 0
	diag "kernel log:"
	printf '%s\n' "$bad" | head -n 40 | sed 's/^/#   /'
	return 1
}

# check_dmesg [NAME]
check_dmesg()
{
	if dmesg_clean; then
		ok "${1:-kernel log clean}"
	else
		not_ok "${1:-kernel log clean}" "kernel reported problems"
	fi
}
