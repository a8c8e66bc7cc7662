#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark, run inside the test VM (scripts/bench.sh builds what it
# needs and boots the VM; "make bench" runs that):
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/bench/bench-vm.sh
#
# Compares configurations of the firewall namespace "fw" of the selftest
# topology (cli 192.0.2.2 -- fw -- srv 198.51.100.2), loaded in turn
# within this one boot:
#
#	none	no FTP helper module, no CT rule
#	null	the reference helper "ftpnull" (selftests/bench/nf_ftp_null.c)
#		attached: called for every packet, does nothing
#	read	the same helper reading every payload byte once, in place,
#		as ours does: the floor for any helper that looks at every
#		line of a segment
#	kernel	the kernel's own nf_conntrack_ftp + nf_nat_ftp (by path)
#	ours	ours, from build/$(uname -r)/
#
# with the helper attached by "iptables -t raw -A PREROUTING -p tcp
# --dport 21 -j CT --helper ftp" (ftpnull for null and read).  FORWARD
# accepts everything in all of them, through a conntrack match so that fw
# tracks connections even without a helper: the differences are the
# helper's alone.  null and read only run the two scans (they set up no
# expectations and keep no state).
#
# Measured, per configuration and round:
#  scan MB/s	one control connection from cli to a sink on srv:21 carrying
#		BENCH_SCAN_BYTES of short command lines (the mix is in
#		ftpload.c: NOOP, TYPE, CWD, PWD, SIZE, MDTM, LIST, PASV, ...,
#		8.5 bytes a line; no PORT) in 256 KiB writes, segmented as TCP
#		likes (fw sees GSO packets of ~50 KiB); MB = 10^6 bytes, from
#		connect to the sink's close (every byte delivered)
#  1-line kl/s	the same with TCP_NODELAY and one write per line
#		(BENCH_LINES lines): about one line per packet (the round's
#		line shows lines per packet as fw received them); thousands
#		of lines per second
#  pasv xfer/s	BENCH_TRANSFERS downloads of a 1 KiB file from vsftpd on
#		srv with curl in PASV mode, BENCH_PER_CURL per curl run (one
#		control connection, one PASV each), curl's start included;
#		with a helper, every data connection must have been expected
#  bytes/conn	growth of the kernel's live slab objects (/proc/slabinfo
#		after shrinking every cache; global, so it also counts the
#		sockets in cli and srv, the same in every configuration) per
#		idle control connection, with BENCH_CONNS connections held
#		open through fw, each after one "USER anonymous" line; the
#		"helper's share" row is the difference from none
#
# A round first runs the scans of every configuration back to back, then
# the other measurements; rounds alternate the order (none null read
# kernel ours, then the reverse, ...).  The table has the median of ROUNDS
# rounds.  The host of an emulated VM drifts (a configuration can run at
# half speed in one round and full speed in the next), so the ratios are
# paired: each is the median over the rounds of that round's ratio.  The
# last line is
#	bench: ours/kernel X.XX ours/nohelper Y.YY
# (scan MB/s ratios).  No timing is asserted; the exit status is non-zero
# only when a configuration failed to run (module did not load, helper not
# attached, transfer failed, kernel warnings).
#
# Environment (defaults in parentheses):
#	ROUNDS			rounds (3)
#	BENCH_SCAN_SECS		length of one scan without helper, used to size
#				BENCH_SCAN_BYTES and BENCH_LINES (1)
#	BENCH_SCAN_BYTES	fixed stream size instead (calibrated)
#	BENCH_LINES		lines of the one-line-per-write scan (calibrated)
#	BENCH_TRANSFERS		PASV downloads per measurement (30)
#	BENCH_PER_CURL		downloads per curl run (15)
#	BENCH_CONNS		idle connections for bytes/conn (1000)
#	BENCH_VERBOSE		1: time-stamped progress of every step, and the
#				slab caches that grew with the connections in
#				every round (not only the first)
#	BENCH_PROFILE		1: after the rounds, profile both scans with each
#				helper (perf record -a) and print the top
#				symbols
#	FTPLOAD			the load tool (build/bench/ftpload)

source "$(dirname "$(readlink -f "$0")")/../lib.sh"

require_vm

ROUNDS=${ROUNDS:-3}
BENCH_SCAN_SECS=${BENCH_SCAN_SECS:-1}
BENCH_SCAN_BYTES=${BENCH_SCAN_BYTES:-}
BENCH_LINES=${BENCH_LINES:-}
BENCH_TRANSFERS=${BENCH_TRANSFERS:-30}
BENCH_PER_CURL=${BENCH_PER_CURL:-15}
BENCH_CONNS=${BENCH_CONNS:-1000}
FTPLOAD=${FTPLOAD:-$REPO_DIR/build/bench/ftpload}

CONFIGS=(none null read kernel ours)
NULL_KO=${NULL_KO:-$REPO_DIR/build/bench/null-$(uname -r)/nf_ftp_null.ko}
WORK=/tmp/vmtest-bench
SMALL_FILE=bench-1k.bin
# Every result, one "config metric value" line each.
RESULTS=$WORK/results

# A sleeping process in each namespace: its /proc/PID/net/ shows the
# namespace's counters without starting anything there, and nsenter
# enters the namespace more cheaply than "ip netns exec" (which matters
# under TCG).
declare -A NS_PID
SINK_PID=

log()
{
	echo "# $*"
}

# step WHAT: with BENCH_VERBOSE=1, a time-stamped progress line.
step()
{
	[ "${BENCH_VERBOSE:-0}" = 1 ] &&
		echo "# [$(cut -d' ' -f1 /proc/uptime)] $*" >&2
	return 0
}

fail()
{
	echo "bench: FAILED: $*"
	exit 1
}

# nsx NS CMD...: run CMD in network namespace NS.
nsx()
{
	local ns=$1

	shift
	nsenter -t "${NS_PID[$ns]}" -n "$@"
}

# nsfile NS FILE: FILE under /proc/net/ as namespace NS sees it.
nsfile()
{
	echo "/proc/${NS_PID[$1]}/net/$2"
}

ns_sleepers_start()
{
	local ns

	for ns in $CLI_NS $FW_NS $SRV_NS; do
		ip netns exec $ns sleep 3600 &
		NS_PID[$ns]=$!
	done
}

ns_sleepers_stop()
{
	local ns

	for ns in "${!NS_PID[@]}"; do
		kill "${NS_PID[$ns]}" 2>/dev/null
		wait "${NS_PID[$ns]}" 2>/dev/null
	done
}

# port_listening: does something in srv listen on the FTP port?
port_listening()
{
	awk -v port="$(printf ':%04X' $FTP_PORT)" \
		'substr($2, length($2) - 4) == port && $4 == "0A" { f = 1 }
		 END { exit !f }' "$(nsfile $SRV_NS tcp)"
}

sink_start()
{
	local i

	# Not through a function: $! must be the sink, not a subshell.
	nsenter -t "${NS_PID[$SRV_NS]}" -n "$FTPLOAD" sink -b $SRV_IP4 \
		-p $FTP_PORT -t 1800 > $WORK/sink.log 2>&1 &
	SINK_PID=$!
	for i in $(seq 50); do
		port_listening && return 0
		kill -0 $SINK_PID 2>/dev/null || break
		sleep 0.1
	done
	cat $WORK/sink.log >&2
	return 1
}

sink_stop()
{
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
		SINK_PID=
	fi
}

# ftpd_kill: ftpd_stop, and make sure the port is free again: ftpd_stop
# signals the subshell in_ns ran vsftpd from, which leaves vsftpd itself
# running; so kill that subshell's children first, by pid.
ftpd_kill()
{
	local pidfile kids="" i

	for pidfile in "$FTP_STATE_DIR"/vsftpd-*.pid; do
		[ -f "$pidfile" ] || continue
		kids="$kids $(pgrep -P "$(cat "$pidfile")")"
	done
	# shellcheck disable=SC2086
	[ -n "${kids// /}" ] && kill $kids 2>/dev/null
	ftpd_stop
	for i in $(seq 50); do
		port_listening || return 0
		sleep 0.1
	done
	echo "port $FTP_PORT still busy after stopping vsftpd" >&2
	return 1
}

cleanup()
{
	sink_stop
	ftpd_kill > /dev/null 2>&1
	ns_sleepers_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

# --- small helpers -------------------------------------------------------

# field KEY LINE: the value of KEY=value in an ftpload result line.
field()
{
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# calc EXPR: awk arithmetic (EXPR may be a sprintf()).
calc()
{
	awk "BEGIN { print $* }"
}

# median: of the numbers on standard input ("-" if none).
median()
{
	sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "-"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]
			else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			print m
		}'
}

# fw_rx_packets: packets fw received from cli (veth counts GSO packets
# as one, as the helper sees them).
fw_rx_packets()
{
	awk -v dev="$FW_CLI_IF:" '$1 == dev { print $3 }
		$1 ~ "^" dev "[0-9]" { print $2 }' "$(nsfile $FW_NS dev)"
}

# ct_stat NAME: a /proc/net/stat/nf_conntrack column of fw, summed over
# the CPUs.
ct_stat()
{
	awk -v name="$1" '
		function hex(s,	i, v) {
			v = 0
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef",
					tolower(substr(s, i, 1))) - 1
			return v
		}
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i; next }
		col { sum += hex($col) }
		END { print sum + 0 }' "$(nsfile $FW_NS stat/nf_conntrack)"
}

# ours_stats: our counters in fw, "name value" lines (none if not ours).
ours_stats()
{
	cat "$(nsfile $FW_NS nf_conntrack_ftp)" 2>/dev/null
}

# stat_delta NAME BEFORE AFTER: difference of one counter of two
# ours_stats outputs.
stat_delta()
{
	local a b

	a=$(printf '%s\n' "$2" | awk -v n="$1" '$1 == n { print $2 }')
	b=$(printf '%s\n' "$3" | awk -v n="$1" '$1 == n { print $2 }')
	echo $(( ${b:-0} - ${a:-0} ))
}

# stat_changes BEFORE AFTER: "name +delta" of every counter that moved.
stat_changes()
{
	printf '%s\n%s\n' "$1" "$2" |
		awk 'NF == 2 && !($1 in a) { a[$1] = $2; next }
		     NF == 2 && $2 != a[$1] { printf "%s +%d ", $1, $2 - a[$1] }'
}

# srv_ofo: segments srv's TCP received out of order (all connections).
srv_ofo()
{
	awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
	     $1 == "TcpExt:" { for (i = 2; i <= NF; i++)
				if (n[i] == "TCPOFOQueue") print $i }' \
		"$(nsfile $SRV_NS netstat)"
}

# ct_ftp_entries [helper]: fw's conntrack entries to port 21 (with the
# ftp helper only, with "helper": conntrack(8), as /proc does not show
# helpers).
ct_ftp_entries()
{
	if [ "${1:-}" = helper ]; then
		nsx $FW_NS conntrack -L -p tcp --dport $FTP_PORT 2>/dev/null |
			grep -c 'helper=ftp'
	else
		grep -c " dport=$FTP_PORT " "$(nsfile $FW_NS nf_conntrack)"
	fi
}

ct_flush()
{
	nsx $FW_NS conntrack -F > /dev/null 2>&1
	nsx $FW_NS conntrack -F expect > /dev/null 2>&1
	return 0
}

# slab_bytes [FILE]: bytes of live slab objects (active objects times
# object size, summed over the caches), after dropping reclaimable
# dentries and inodes and shrinking every cache, which also flushes the
# per-CPU slabs (whose free objects /proc/slabinfo would count as
# active).  Objects, not pages: a cache that still has room from an
# earlier round counts its new objects all the same.  FILE gets a copy
# of /proc/slabinfo.
slab_bytes()
{
	local d copy=${1:-/dev/null}

	sync
	echo 2 > /proc/sys/vm/drop_caches
	for d in /sys/kernel/slab/*; do
		# Aliases of merged caches are symbolic links: once is enough.
		[ -L "$d" ] || echo 1 > "$d/shrink"
	done 2> /dev/null
	cat /proc/slabinfo > "$copy"
	awk 'NR > 2 { s += $2 * $4 } END { printf "%.0f\n", s }' /proc/slabinfo
}

# slab_growth BEFORE AFTER N: the caches that grew most, in bytes per
# connection.
slab_growth()
{
	awk -v n="$3" 'FNR <= 2 { next }
		FILENAME == ARGV[1] { a[$1] = $2 * $4; next }
		{ d = $2 * $4 - a[$1]; if (d > 0) printf "%d %s\n", d / n, $1 }' \
		"$1" "$2" | sort -rn | head -n 8 | awk '{ printf "%s %s, ", $2, $1 }'
}

# --- configurations --------------------------------------------------------

# fw_rules [HELPER]: fw's whole ruleset: FORWARD accepts all through a
# conntrack match; with HELPER, the CT rule attaching it.
fw_rules()
{
	local ct=

	[ -n "${1:-}" ] &&
		ct="-A PREROUTING -p tcp --dport $FTP_PORT -j CT --helper $1"
	nsx $FW_NS iptables-restore <<-EOF
	*filter
	:INPUT ACCEPT [0:0]
	:FORWARD ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	-A FORWARD -m conntrack --ctstate NEW,ESTABLISHED,RELATED,INVALID -j ACCEPT
	COMMIT
	*raw
	:PREROUTING ACCEPT [0:0]
	:OUTPUT ACCEPT [0:0]
	$ct
	COMMIT
	EOF
}

cfg_up()
{
	local cfg=$1 taint

	case $cfg in
	none)
		unload_ours || return 1
		if [ -d /sys/module/nf_conntrack_ftp ]; then
			echo "nf_conntrack_ftp still loaded" >&2
			return 1
		fi
		fw_rules
		return
		;;
	null|read)
		unload_ours || return 1
		insmod "$NULL_KO" touch=$([ "$cfg" = read ] && echo 1 || echo 0) ||
			return 1
		fw_rules ftpnull
		return
		;;
	kernel)
		FTP_HELPER_IMPL=kernel load_ours "" || return 1
		taint=$(cat /sys/module/nf_conntrack_ftp/taint 2>/dev/null)
		case $taint in
		*O*)	echo "nf_conntrack_ftp is not the kernel's (taint $taint)" >&2
			return 1 ;;
		esac
		;;
	ours)
		FTP_HELPER_IMPL=ours load_ours "" || return 1
		;;
	esac
	fw_rules ftp
}

cfg_down()
{
	# The CT rule holds a reference to the helper's module.
	fw_rules || return 1
	ct_flush
	if [ -d /sys/module/nf_ftp_null ]; then
		rmmod nf_ftp_null || return 1
	fi
	unload_ours
}

# --- the measurements -----------------------------------------------------

# scan CFG -n BYTES|-l LINES: one scan; prints "bytes lines secs packets".
scan()
{
	local cfg=$1 opt=$2 arg=$3 out p0 p1 o0 o1 s0 s1 lines secs bytes
	local parsed

	p0=$(fw_rx_packets)
	o0=$(srv_ofo)
	s0=$(ours_stats)
	out=$(nsx $CLI_NS "$FTPLOAD" scan -c $SRV_IP4 -p $FTP_PORT \
		"$opt" "$arg" -t 300 2> $WORK/scan.err) || {
		cat $WORK/scan.err >&2
		return 1
	}
	p1=$(fw_rx_packets)
	o1=$(srv_ofo)
	s1=$(ours_stats)
	bytes=$(field bytes "$out")
	lines=$(field lines "$out")
	secs=$(field secs "$out")

	if [ "$cfg" != none ] && [ "$(ct_ftp_entries helper)" -lt 1 ]; then
		echo "the scan connection has no helper in fw" >&2
		return 1
	fi
	if [ "$cfg" = ours ]; then
		parsed=$(stat_delta lines_examined "$s0" "$s1")
		[ "$parsed" -lt "$lines" ] &&
			log "  ours examined $parsed of $lines lines;" \
				"$((o1 - o0)) segments out of order at srv;" \
				"sender retransmitted $(field retrans "$out");" \
				"counters: $(stat_changes "$s0" "$s1")" >&2
	fi
	ct_flush
	echo "$bytes $lines $secs $((p1 - p0 > 0 ? p1 - p0 : 1))" \
		"$(field retrans "$out")"
}

# mem CFG: bytes of slab objects per held connection.
mem()
{
	local cfg=$1 s0 s1 pid i n helped

	ct_flush
	sleep 0.5
	s0=$(slab_bytes $WORK/slab.0)

	rm -f $WORK/hold.in
	mkfifo $WORK/hold.in
	nsenter -t "${NS_PID[$CLI_NS]}" -n "$FTPLOAD" hold -c $SRV_IP4 -p $FTP_PORT \
		-n $BENCH_CONNS -t 600 < $WORK/hold.in > $WORK/hold.out 2>&1 &
	pid=$!
	exec 7> $WORK/hold.in
	for i in $(seq 1200); do
		grep -q '^ready' $WORK/hold.out && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready' $WORK/hold.out; then
		exec 7>&-
		wait $pid
		cat $WORK/hold.out >&2
		return 1
	fi
	s1=$(slab_bytes $WORK/slab.1)
	n=$(ct_ftp_entries)
	helped=$(ct_ftp_entries helper)
	exec 7>&-
	wait $pid || { cat $WORK/hold.out >&2; return 1; }
	ct_flush

	if [ "$n" -lt "$BENCH_CONNS" ]; then
		echo "fw tracks only $n of $BENCH_CONNS connections" >&2
		return 1
	fi
	if [ "$cfg" != none ] && [ "$helped" -lt "$BENCH_CONNS" ]; then
		echo "only $helped of $BENCH_CONNS connections have the helper" >&2
		return 1
	fi
	if [ "$cfg" = none ] && [ "$helped" -ne 0 ]; then
		echo "$helped connections have a helper without one loaded" >&2
		return 1
	fi
	[ "${BENCH_VERBOSE:-0}" = 1 ] || [ "${MEM_DETAIL:-0}" = 1 ] &&
		log "  $cfg: B/conn by cache:" \
			"$(slab_growth $WORK/slab.0 $WORK/slab.1 $BENCH_CONNS)" >&2
	calc "($s1 - $s0) / $BENCH_CONNS"
}

# pasv CFG: PASV downloads per second.
pasv()
{
	local cfg=$1 url=ftp://$SRV_IP4/$SMALL_FILE
	local done=0 e0 e1 t0 t1 out i n
	local -a args=()

	for ((i = 0; i < BENCH_PER_CURL; i++)); do
		args+=(-o /dev/null "$url")
	done
	e0=$(ct_stat expect_new)
	t0=$(date +%s.%N)
	while [ $done -lt "$BENCH_TRANSFERS" ]; do
		out=$(nsx $CLI_NS curl --silent --show-error --globoff \
			--max-time 120 --connect-timeout 10 --ftp-pasv \
			--disable-epsv --no-ftp-skip-pasv-ip \
			-w '%{size_download}\n' "${args[@]}" 2> $WORK/curl.err) || {
			cat $WORK/curl.err >&2
			return 1
		}
		n=$(printf '%s\n' "$out" | grep -c '^1024$')
		if [ "$n" -ne "$BENCH_PER_CURL" ]; then
			echo "only $n of $BENCH_PER_CURL downloads complete" >&2
			return 1
		fi
		done=$((done + n))
	done
	t1=$(date +%s.%N)
	e1=$(ct_stat expect_new)
	if [ "$cfg" != none ] && [ $((e1 - e0)) -lt $done ]; then
		echo "only $((e1 - e0)) of $done data connections were expected" >&2
		return 1
	fi
	ct_flush
	calc "$done / ($t1 - $t0)"
}

# run_scans ROUND CFG: the two scans in one configuration.
run_scans()
{
	local round=$1 cfg=$2 r b l s p o mbs kls lpp bpp rtx

	step "$cfg: up"
	cfg_up "$cfg" || fail "$cfg: configuration did not come up"
	sink_start || fail "$cfg: sink did not start"

	step "$cfg: scan"
	r=$(scan "$cfg" -n "$BENCH_SCAN_BYTES") || fail "$cfg: scan failed"
	read -r b l s p o <<< "$r"
	mbs=$(calc "sprintf(\"%.1f\", $b / $s / 1e6)")
	bpp=$(calc "int($b / $p)")
	rtx=$o
	echo "$cfg scan $mbs $round" >> $RESULTS

	step "$cfg: 1-line scan"
	r=$(scan "$cfg" -l "$BENCH_LINES") || fail "$cfg: 1-line scan failed"
	read -r b l s p o <<< "$r"
	kls=$(calc "sprintf(\"%.2f\", $l / $s / 1e3)")
	lpp=$(calc "sprintf(\"%.2f\", $l / $p)")
	echo "$cfg line $kls $round" >> $RESULTS
	sink_stop

	step "$cfg: down"
	cfg_down || fail "$cfg: could not unload the helper"
	log "round $round $(printf '%-6s' "$cfg"): scan $mbs MB/s ($bpp B/pkt," \
		"$rtx retransmitted), 1-line $kls kl/s ($lpp lines/pkt)"
}

# run_rest ROUND CFG: the memory and PASV measurements in one
# configuration.
run_rest()
{
	local round=$1 cfg=$2 xfer bpc

	step "$cfg: up"
	cfg_up "$cfg" || fail "$cfg: configuration did not come up"
	sink_start || fail "$cfg: sink did not start"

	step "$cfg: memory"
	# The caches that grew, once per configuration.
	bpc=$(MEM_DETAIL=$((round == 1)) mem "$cfg") ||
		fail "$cfg: connection memory measurement failed"
	bpc=$(calc "sprintf(\"%.0f\", $bpc)")
	echo "$cfg mem $bpc $round" >> $RESULTS
	sink_stop

	step "$cfg: pasv"
	ftpd_start > /dev/null || fail "$cfg: vsftpd did not start"
	xfer=$(pasv "$cfg") || fail "$cfg: PASV transfers failed"
	xfer=$(calc "sprintf(\"%.1f\", $xfer)")
	echo "$cfg pasv $xfer $round" >> $RESULTS
	ftpd_kill || fail "$cfg: vsftpd did not stop"

	step "$cfg: down"
	cfg_down || fail "$cfg: could not unload the helper"
	log "round $round $(printf '%-6s' "$cfg"): pasv $xfer/s, $bpc B/conn"
}

# calibrate: size the scans from a short run without helper, and warm
# up what the first configuration would otherwise pay for alone (page
# cache of the programs, slab caches growing to BENCH_CONNS sockets).
calibrate()
{
	local r b l s p o

	cfg_up none || fail "none: configuration did not come up"
	sink_start || fail "none: sink did not start"
	if [ -z "$BENCH_SCAN_BYTES" ]; then
		r=$(scan none -n $((16 << 20))) || fail "calibration scan failed"
		read -r b l s p o <<< "$r"
		# A whole number of MiB, 16 MiB to 2 GiB.
		BENCH_SCAN_BYTES=$(calc "int($b / $s * $BENCH_SCAN_SECS / 1048576)")
		[ "$BENCH_SCAN_BYTES" -lt 16 ] && BENCH_SCAN_BYTES=16
		[ "$BENCH_SCAN_BYTES" -gt 2048 ] && BENCH_SCAN_BYTES=2048
		BENCH_SCAN_BYTES=$((BENCH_SCAN_BYTES << 20))
	fi
	if [ -z "$BENCH_LINES" ]; then
		r=$(scan none -l 5000) || fail "calibration 1-line scan failed"
		read -r b l s p o <<< "$r"
		BENCH_LINES=$(calc "int($l / $s * $BENCH_SCAN_SECS / 1000) * 1000")
		[ "$BENCH_LINES" -lt 5000 ] && BENCH_LINES=5000
		[ "$BENCH_LINES" -gt 5000000 ] && BENCH_LINES=5000000
	fi
	mem none > /dev/null || fail "warm-up of the memory measurement failed"
	sink_stop
	ftpd_start > /dev/null || fail "vsftpd did not start"
	head -c 1024 /dev/urandom > "$FTP_ROOT/$SMALL_FILE"
	chmod 0644 "$FTP_ROOT/$SMALL_FILE"
	BENCH_TRANSFERS=$BENCH_PER_CURL pasv none > /dev/null ||
		fail "warm-up PASV transfers failed"
	ftpd_kill || fail "vsftpd did not stop"
	cfg_down
}

# profile CFG: perf record both scans with CFG; print the top symbols.
profile()
{
	local cfg=$1 what opt arg data

	cfg_up "$cfg" || fail "$cfg: configuration did not come up"
	sink_start || fail "$cfg: sink did not start"
	for what in bulk 1-line; do
		if [ $what = bulk ]; then
			opt=-n; arg=$BENCH_SCAN_BYTES
		else
			opt=-l; arg=$BENCH_LINES
		fi
		data=$WORK/perf-$cfg-$what.data
		if ! perf record -q -a -F 499 -o "$data" -- \
			nsenter -t "${NS_PID[$CLI_NS]}" -n "$FTPLOAD" scan \
			-c $SRV_IP4 -p $FTP_PORT $opt "$arg" -t 300 \
			> $WORK/perf.out 2>&1; then
			log "perf record failed:"
			tail -n 5 $WORK/perf.out | sed 's/^/#   /'
			continue
		fi
		ct_flush
		log "profile: $cfg, $what scan, all CPUs, top symbols:"
		perf report -i "$data" --stdio --no-children --sort sym \
			2> /dev/null | grep -E '^ +[0-9]' | head -n 15 |
			sed 's/^ */#   /'
		rm -f "$data"
	done
	sink_stop
	cfg_down
}

# --- main ------------------------------------------------------------------

ours_available ||
	fail "no nf_conntrack_ftp.ko/nf_nat_ftp.ko in $FTP_HELPER_BUILD_DIR" \
		"(make modules KVER=$(uname -r))"
[ -x "$FTPLOAD" ] || fail "no $FTPLOAD (scripts/bench.sh builds it)"
[ -f "$NULL_KO" ] || fail "no $NULL_KO (scripts/bench.sh builds it)"
[ -n "$(__kernel_module_path nf_conntrack_ftp)" ] ||
	fail "the kernel's nf_conntrack_ftp module is not installed"

rm -rf $WORK
mkdir -p $WORK
: > $RESULTS

if dmesg | grep -q 'Hypervisor detected: KVM'; then
	accel=kvm
else
	accel=tcg
fi
ncpu=$(nproc)

modprobe nf_conntrack || fail "cannot load nf_conntrack"
modprobe nf_nat || fail "cannot load nf_nat"
topo_setup || fail "topology setup failed"
topo_ping || fail "cli cannot reach srv"
ns_sleepers_start
# Small writes must leave as small segments.
nsx $CLI_NS sysctl -qw net.ipv4.tcp_autocorking=0 2>/dev/null ||
	sysctl -qw net.ipv4.tcp_autocorking=0
dmesg_mark

calibrate
log "kernel $(uname -r), accelerator $accel, $ncpu CPUs, $ROUNDS rounds"
log "scan $((BENCH_SCAN_BYTES >> 20)) MiB, 1-line scan $BENCH_LINES lines," \
	"$BENCH_TRANSFERS PASV downloads ($BENCH_PER_CURL per curl)," \
	"$BENCH_CONNS idle connections"

for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then
		order=(none null read kernel ours)
	else
		order=(ours kernel read null none)
	fi
	for cfg in "${order[@]}"; do
		run_scans "$round" "$cfg"
	done
	for cfg in "${order[@]}"; do
		case $cfg in
		null|read)	;;
		*)		run_rest "$round" "$cfg" ;;
		esac
	done
done

if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	if command -v perf > /dev/null; then
		profile kernel
		profile ours
	else
		log "no perf: no profile"
	fi
fi

dmesg_clean || fail "the kernel logged problems during the benchmark"

# --- the table ---------------------------------------------------------------

med()	# med CFG METRIC
{
	awk -v c="$1" -v m="$2" '$1 == c && $2 == m { print $3 }' $RESULTS |
		median
}

row()	# row LABEL METRIC FORMAT
{
	local cfg v

	printf '%-22s' "$1"
	for cfg in "${CONFIGS[@]}"; do
		v=$(med "$cfg" "$2")
		[ "$v" != - ] && v=$(calc "sprintf(\"$3\", $v)")
		printf " %9s" "$v"
	done
	echo
}

# ratio METRIC CFG CFG: the median over the rounds of the round's ratio
# of CFG to CFG (paired: both measured minutes apart at most).
ratio()
{
	local r

	r=$(awk -v m="$1" -v a="$2" -v b="$3" '
		$2 == m && $1 == a { x[$4] = $3 }
		$2 == m && $1 == b { y[$4] = $3 }
		END { for (r in x) if ((r in y) && y[r] > 0) print x[r] / y[r] }' \
		$RESULTS | median)
	[ "$r" = - ] && echo - && return
	calc "sprintf(\"%.2f\", $r)"
}

echo "=== bench results ==="
echo "kernel $(uname -r), accelerator $accel, $ncpu CPUs," \
	"median of $ROUNDS rounds"
printf '%-22s' ""
printf ' %9s' "${CONFIGS[@]}"
echo
row "scan MB/s" scan "%.1f"
row "scan 1-line kl/s" line "%.2f"
row "pasv transfers/s" pasv "%.1f"
row "bytes/conn" mem "%.0f"
printf '%-22s %9s %9s %9s' "  helper's share" - - -
for cfg in kernel ours; do
	printf " %9s" "$(calc "sprintf(\"%+.0f\", $(med $cfg mem) - $(med none mem))")"
done
echo
echo "scan floor: null/nohelper $(ratio scan null none)" \
	"read/nohelper $(ratio scan read none)" \
	"kernel/read $(ratio scan kernel read) ours/read $(ratio scan ours read)"
echo "1-line scan: ours/kernel $(ratio line ours kernel)" \
	"ours/nohelper $(ratio line ours none)"
echo "bench: ours/kernel $(ratio scan ours kernel)" \
	"ours/nohelper $(ratio scan ours none)"
exit 0
