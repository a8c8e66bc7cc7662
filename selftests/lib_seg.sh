#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by segment.sh, hardening.sh and custody.sh, on top of
# lib.sh (source lib.sh first):
#  - the firewall of those tests: FORWARD policy drop, only replies,
#    RELATED and new control connections pass; the helper attached in raw
#    PREROUTING (fw_policy, fw_helper_attach, fw_helper_detach);
#  - tools/ftpseg.py as client in cli (seg_client) and as fake server in
#    srv (fake_start, fake_stop);
#  - the helper's per-namespace counters (stat_get, stat_snap, stat_delta)
#    and expectations (exp_count, exp_wait, exp_dump) in fw.

SEG_TOOLS=$LIB_DIR/tools
FTPSEG=$SEG_TOOLS/ftpseg.py
CTEXPECT=$SEG_TOOLS/ctexpect
PYTHON=${PYTHON:-python3}
SEG_LOG_DIR=$FTP_STATE_DIR/seg
SEG_CLIENT_LOG=$SEG_LOG_DIR/client.log
SEG_STATS=/proc/net/nf_conntrack_ftp

# seg_tools_ready: ftpseg.py runs and ctexpect is built.
seg_tools_ready()
{
	mkdir -p "$SEG_LOG_DIR"
	[ -x "$CTEXPECT" ] || { echo "missing $CTEXPECT (make -C selftests/tools)" >&2; return 1; }
	"$PYTHON" "$FTPSEG" --help > /dev/null || return 1
}

# --- firewall ------------------------------------------------------------

# fw_policy: drop forwarded traffic except replies, RELATED connections
# and new connections to the FTP control port (IPv4 and IPv6).
fw_policy()
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

# fw_helper_attach / fw_helper_detach: the "ftp" helper on port 21.
fw_helper_attach()
{
	local ipt

	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -t raw -A PREROUTING -p tcp \
			--dport $FTP_PORT -j CT --helper ftp || return 1
	done
}

fw_helper_detach()
{
	local ipt

	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -t raw -D PREROUTING -p tcp \
			--dport $FTP_PORT -j CT --helper ftp || return 1
	done
}

# fw_flush_conntrack: forget connections and expectations in fw, so that
# every case starts from nothing.
fw_flush_conntrack()
{
	in_ns $FW_NS conntrack -F expect > /dev/null 2>&1
	in_ns $FW_NS conntrack -F > /dev/null 2>&1
	return 0
}

# --- counters ------------------------------------------------------------

# stat_get NAME [NS]: one counter of /proc/net/nf_conntrack_ftp in NS
# (default fw); empty if the file or the counter is missing.
stat_get()
{
	in_ns "${2:-$FW_NS}" awk -v n="$1" '$1 == n { print $2 }' $SEG_STATS \
		2> /dev/null
}

declare -A __seg_snap

# stat_snap: remember every counter of fw; stat_delta NAME: how much NAME
# moved since.
stat_snap()
{
	local name val

	__seg_snap=()
	while read -r name val; do
		__seg_snap[$name]=$val
	done < <(in_ns $FW_NS cat $SEG_STATS 2> /dev/null)
}

stat_delta()
{
	local now

	now=$(stat_get "$1")
	echo $(( ${now:-0} - ${__seg_snap[$1]:-0} ))
}

# stat_diag: the counters of fw, as diagnostics.
stat_diag()
{
	in_ns $FW_NS cat $SEG_STATS 2>&1 | sed 's/^/#   /'
}

# --- expectations ----------------------------------------------------------

# exp_count [FILTER...]: number of expectations in fw (ctexpect filters).
exp_count()
{
	in_ns $FW_NS "$CTEXPECT" count "$@"
}

# exp_wait PORT [TIMEOUT]: wait for an expectation to PORT in fw.
exp_wait()
{
	in_ns $FW_NS "$CTEXPECT" wait --dport "$1" --timeout "${2:-3}" \
		> /dev/null
}

# exp_dump [FILTER...]
exp_dump()
{
	in_ns $FW_NS "$CTEXPECT" dump "$@"
}

# exp_diag: the expectations of fw, as diagnostics.
exp_diag()
{
	exp_dump 2>&1 | sed 's/^/#   /'
}

# --- ftpseg.py -----------------------------------------------------------

# seg_client ARGS...: ftpseg.py client in cli; its stderr goes to
# $SEG_CLIENT_LOG, its stdout (the sha256 line) to stdout.
seg_client()
{
	in_ns $CLI_NS "$PYTHON" "$FTPSEG" client "$@" 2> "$SEG_CLIENT_LOG"
}

# seg_get ARGS...: ftpseg.py client that must transfer the test file
# intact.  Returns 0 only then; on failure prints why as diagnostics.
seg_get()
{
	local out rc

	out=$(seg_client --expect-sha256 "$(ftp_expected_sha256)" "$@")
	rc=$?
	if [ $rc -ne 0 ]; then
		diag "ftpseg client $* failed ($rc)"
		diag_file "$SEG_CLIENT_LOG" 8
		return 1
	fi
	case $out in
	"sha256 $(ftp_expected_sha256)") return 0 ;;
	esac
	diag "unexpected ftpseg output: $out"
	return 1
}

__fake_pid=

# fake_start NS ADDR ARGS...: start the fake server on ADDR (port 21 unless
# ARGS say otherwise) in NS, serving the lib's test file, and wait until it
# listens.  Its log is $SEG_LOG_DIR/server.log.
fake_start()
{
	local ns=$1 addr=$2 ready=$SEG_LOG_DIR/server.ready i

	shift 2
	fake_stop
	rm -f "$ready"
	# Not through in_ns: a function in the background is a subshell,
	# and $! would not be the server's pid.
	ip netns exec "$ns" "$PYTHON" "$FTPSEG" server --listen "$addr" \
		--file "$FTP_ROOT/$FTP_FILE" --ready "$ready" "$@" \
		2> "$SEG_LOG_DIR/server.log" &
	__fake_pid=$!
	for i in $(seq 300); do
		[ -e "$ready" ] && return 0
		kill -0 $__fake_pid 2> /dev/null || break
		sleep 0.05
	done
	diag "fake server did not start:"
	diag_file "$SEG_LOG_DIR/server.log"
	return 1
}

# fake_stop: stop the fake server started last, if it still runs.
fake_stop()
{
	[ -n "$__fake_pid" ] || return 0
	kill $__fake_pid 2> /dev/null
	wait $__fake_pid 2> /dev/null
	__fake_pid=
	return 0
}

# fake_wait: wait for the fake server to finish its sessions.
fake_wait()
{
	[ -n "$__fake_pid" ] || return 0
	wait $__fake_pid
	local rc=$?
	__fake_pid=
	return $rc
}

# srv_ftpd_stop: ftpd_stop, then make sure nothing listens on the control
# port in srv any more.  ftpd_start runs vsftpd through a shell function
# in the background, so the pid ftpd_stop kills may be a subshell's, and
# vsftpd would keep running: kill the vsftpd processes of the srv
# namespace by their pids.
srv_ftpd_stop()
{
	local pid i

	ftpd_stop
	for pid in $(ip netns pids $SRV_NS 2> /dev/null); do
		[ "$(cat /proc/$pid/comm 2> /dev/null)" = vsftpd ] &&
			kill "$pid" 2> /dev/null
	done
	for i in $(seq 50); do
		[ -z "$(in_ns $SRV_NS ss -Hltn "sport = :$FTP_PORT")" ] && return 0
		sleep 0.1
	done
	diag "something still listens on port $FTP_PORT in $SRV_NS"
	return 1
}

# --- TCP -------------------------------------------------------------------

# tcp_stat NS NAME: the TCP counter NAME (nstat's name) of NS so far.
tcp_stat()
{
	in_ns "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
}

# seg_no_autocork NS: one write, one segment, even while earlier segments
# wait in a qdisc (netem).
seg_no_autocork()
{
	in_ns "$1" sysctl -qw net.ipv4.tcp_autocorking=0
}

# --- segment accounting -------------------------------------------------------

# midline_segments FILE...: how many segments ftpseg.py sent that ended
# inside a line (each is one line the helper must carry over).
midline_segments()
{
	cat "$@" 2> /dev/null |
		sed -n 's/.* segments, \([0-9][0-9]*\) mid-line$/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# seg_count_start: count the control connections' packets that fw sends
# on (in postrouting at priority 0, before the helper, which runs at
# conntrack confirmation, last) and the ones cli and srv receive (in
# prerouting, before anything else).  seg_count_check compares them: a
# packet the helper dropped is counted by fw but never received.
seg_count_start()
{
	in_ns $FW_NS nft -f - <<-EOF2 || return 1
	table inet segcount {
		counter c2s { }
		counter s2c { }
		chain post {
			type filter hook postrouting priority 0; policy accept;
			tcp dport $FTP_PORT counter name "c2s"
			tcp sport $FTP_PORT counter name "s2c"
		}
	}
	EOF2
	in_ns $SRV_NS nft -f - <<-EOF2 || return 1
	table inet segcount {
		counter c2s { }
		chain pre {
			type filter hook prerouting priority -400; policy accept;
			tcp dport $FTP_PORT counter name "c2s"
		}
	}
	EOF2
	in_ns $CLI_NS nft -f - <<-EOF2 || return 1
	table inet segcount {
		counter s2c { }
		chain pre {
			type filter hook prerouting priority -400; policy accept;
			tcp sport $FTP_PORT counter name "s2c"
		}
	}
	EOF2
}

# __seg_counter NS NAME: packets counted by NAME in NS.
__seg_counter()
{
	in_ns "$1" nft list counter inet segcount "$2" 2> /dev/null |
		sed -n 's/.*packets \([0-9]*\) .*/\1/p'
}

# seg_count_check: fw sent on as many control packets as cli and srv got;
# prints "c2s FW/SRV s2c FW/CLI".
seg_count_check()
{
	local fc fs sc cc

	fc=$(__seg_counter $FW_NS c2s)
	sc=$(__seg_counter $SRV_NS c2s)
	fs=$(__seg_counter $FW_NS s2c)
	cc=$(__seg_counter $CLI_NS s2c)
	echo "c2s $fc/$sc s2c $fs/$cc"
	[ -n "$fc" ] && [ -n "$fs" ] && [ "$fc" = "$sc" ] && [ "$fs" = "$cc" ] &&
		[ "$fc" -gt 0 ] && [ "$fs" -gt 0 ]
}
