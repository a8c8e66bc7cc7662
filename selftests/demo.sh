#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The narrated demo behind "make demo" (scripts/demo.sh boots the VM).
# Run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/demo.sh
#
# A client, a firewall and an FTP server in three network namespaces
# (lib.sh's topology).  The story: our modules are loaded; an nftables
# firewall without the helper blocks a passive transfer; with the helper
# attached passive and active transfers work, and the expectations they
# need appear as conntrack events; the counters; a PORT to port 22 is
# refused; active FTP through masquerade, the PORT line seen on both
# sides of the firewall.  Every command is printed ("fw$ ..." runs in
# namespace fw, "vm$ ..." in the VM itself) with its real output.
#
# Exits 1 if any step that should work did not, 0 otherwise.
#
# Environment: DEMO_BOLD, DEMO_SGR0: escape sequences around section
# headers (empty: plain text).

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

B=${DEMO_BOLD:-}
N=${DEMO_SGR0:-}
WORK=/tmp/demo
STATS=/proc/net/nf_conntrack_ftp
VSFTPD_LOG=$FTP_STATE_DIR/vsftpd-$FTP_PORT-v4.log
EVENTS=$WORK/expect-events.log
KO_DIR=${FTP_HELPER_BUILD_DIR#$REPO_DIR/}

checks=0
failed=()
events_pid=
events_shown=0

cleanup()
{
	if [ -n "$events_pid" ]; then
		kill "$events_pid" 2>/dev/null
		wait "$events_pid" 2>/dev/null
	fi
	ftpd_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

# --- presentation ----------------------------------------------------------

# section TITLE: a header.
section()
{
	printf '\n%s=== %s ===%s\n\n' "$B" "$1" "$N"
}

# say LINE...: narration, one argument per line.
say()
{
	printf '%s\n' "$@"
}

# run CTX CMD: print "CTX$ CMD" and run the shell command CMD in network
# namespace CTX (cli, fw, srv), or in the VM itself for CTX "vm", from
# $WORK.  The output is indented under the command.  Returns CMD's status.
run()
{
	local ctx=$1 cmd=$2

	printf '    %s$ %s\n' "$ctx" "$cmd"
	# Line-buffered, so that stdout and stderr keep their order.
	if [ "$ctx" = vm ]; then
		stdbuf -oL bash -c "$cmd" 2>&1
	else
		in_ns "$ctx" stdbuf -oL bash -c "$cmd" 2>&1
	fi | sed 's/^/      /'
	return "${PIPESTATUS[0]}"
}

# check DESCRIPTION CMD...: CMD must succeed; print the verdict, remember
# failures for the summary.
check()
{
	local what=$1

	shift
	checks=$((checks + 1))
	if "$@"; then
		printf '    => ok: %s\n' "$what"
	else
		printf '    => FAILED: %s\n' "$what"
		failed+=("$what")
	fi
}

# --- helpers for the checks -------------------------------------------------

# counter NAME: one of fw's helper counters.
counter()
{
	in_ns $FW_NS awk -v n="$1" '$1 == n { print $2 }' $STATS
}

# delta_at_least BEFORE AFTER N
delta_at_least()
{
	[ -n "$1" ] && [ -n "$2" ] && [ $(($2 - $1)) -ge "$3" ]
}

# sha_ok FILE: FILE holds the served data.
sha_ok()
{
	[ -s "$1" ] &&
		[ "$(sha256sum "$1" | cut -d' ' -f1)" = "$(ftp_expected_sha256)" ]
}

# data_port LOG 227|PORT: the data port curl's verbose LOG announced or
# was told (p1 * 256 + p2 of the last such line).
data_port()
{
	local line

	if [ "$2" = 227 ]; then
		line=$(grep -a '^< 227 ' "$1" | tail -n 1)
	else
		line=$(grep -a '^> PORT ' "$1" | tail -n 1)
	fi
	echo "$line" | sed -n 's/.*[ (]\([0-9]*,[0-9]*,[0-9]*,[0-9]*\),\([0-9]*\),\([0-9]*\).*/\2 \3/p' |
		awk '{ print $1 * 256 + $2 }'
}

# events_show: print the expectation events the background
# "conntrack -E expect" wrote since the last call.
events_show()
{
	local i total

	# Events come asynchronously: give the last ones a moment.
	for i in 1 2 3 4 5; do
		sleep 0.2
		total=$(wc -l < "$EVENTS")
		[ "$total" -gt "$events_shown" ] && break
	done
	sleep 0.3
	total=$(wc -l < "$EVENTS")
	say "    ... and meanwhile, from the background conntrack -E expect on fw:"
	if [ "$total" -gt "$events_shown" ]; then
		tail -n +$((events_shown + 1)) "$EVENTS" | head -n $((total - events_shown)) |
			sed 's/^/      /'
	else
		say "      (no event)"
	fi
	NEW_EVENTS=$(tail -n +$((events_shown + 1)) "$EVENTS" | head -n $((total - events_shown)))
	events_shown=$total
}

# event_new_to PORT: the last events_show printed a NEW expectation for
# data port PORT.
event_new_to()
{
	[ -n "$1" ] && printf '%s\n' "$NEW_EVENTS" | grep -E '^ *\[NEW\]' |
		grep -q -E " dport=$1 "
}

# wait_socket PID: wait until process PID has a socket open (conntrack -E
# has subscribed to the events).
wait_socket()
{
	local i

	for i in $(seq 100); do
		ls -l /proc/"$1"/fd 2>/dev/null | grep -q 'socket:' && return 0
		sleep 0.1
	done
	return 1
}

mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
dmesg_mark

say "${B}nf_conntrack_ftp / nf_nat_ftp: a demonstration${N}" \
    "" \
    "Kernel $(uname -r), in a throw-away VM.  Lines starting with" \
    "'cli\$', 'fw\$' or 'srv\$' are commands run on that machine (a network" \
    "namespace); 'vm\$' runs in the VM itself.  Their output follows, indented."

# =========================================================================
section "1. The network, and our modules"
# =========================================================================
say "A client, a firewall that routes between two networks, an FTP server:" \
    "" \
    "    cli  192.0.2.2 ----- 192.0.2.1  fw  198.51.100.1 ----- 198.51.100.2  srv" \
    "    (curl)                (nftables)                        (vsftpd, port 21)" \
    ""
if topo_setup && ftpd_start; then
	topo=0
else
	topo=1
fi
run fw "ip -4 -br addr show"
run cli "ip route"
run srv "ip route"
check "topology up, vsftpd listening on 198.51.100.2:21" test $topo = 0

say "" "Load our nf_conntrack_ftp and nf_nat_ftp (built for this kernel) in" \
    "place of the kernel's own, which are never loaded here:" ""
printf '    vm$ load_ours    # lib.sh: insmod %s/nf_conntrack_ftp.ko %s/nf_nat_ftp.ko\n' \
	"$KO_DIR" "$KO_DIR"
load_ours "" 2>&1 | sed 's/^/      /'
loaded=${PIPESTATUS[0]}
check "our modules loaded" test "$loaded" = 0
if [ "$loaded" != 0 ]; then
	say "Without the modules there is nothing to show."
	exit 1
fi
run vm "modinfo -F parm $FTP_HELPER_BUILD_DIR/nf_conntrack_ftp.ko | cut -d: -f1"
run vm "grep -H . /sys/module/nf_conntrack_ftp/parameters/*"
say "" "The module in the kernel is the file we built (same srcversion), an" \
    "out-of-tree one (O in its taint flags):" ""
run vm "modinfo -F srcversion $FTP_HELPER_BUILD_DIR/nf_conntrack_ftp.ko; cat /sys/module/nf_conntrack_ftp/srcversion /sys/module/nf_conntrack_ftp/taint"
check "the loaded nf_conntrack_ftp is ours" \
	test "$(modinfo -F srcversion "$FTP_HELPER_BUILD_DIR/nf_conntrack_ftp.ko")" = \
	"$(cat /sys/module/nf_conntrack_ftp/srcversion)"

# =========================================================================
section "2. A firewall, without the helper: passive FTP is blocked"
# =========================================================================
say "fw forwards nothing by default (policy drop).  It lets through new" \
    "connections to port 21 and whatever belongs to a known connection" \
    "(established, or related: opened on behalf of one by a helper)." \
    "The ct helper object \"ftp-std\" is declared, but not attached yet." ""
cat > fw.nft <<EOF
table inet demo {
	ct helper ftp-std {
		type "ftp" protocol tcp
		l3proto inet
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		tcp dport $FTP_PORT ct state new accept
	}
}
EOF
run fw "nft -f fw.nft"
check "ruleset loaded" test $? = 0
run fw "nft list ruleset"

say "" "The server's answer to PASV (227) names a data port; the client's" \
    "connection to it is new to the firewall, and dropped:" ""
run cli "curl -sSv --max-time 6 --ftp-pasv --disable-epsv -o blocked.bin ftp://$SRV_IP4/$FTP_FILE 2> blocked.log"
rc=$?
run cli "grep -a -E '^(> PASV|< 227|\*   Trying|curl:)' blocked.log"
check "without the helper the passive transfer fails (curl exit $rc)" \
	test "$rc" != 0
check "... although the control connection worked (227 received)" \
	grep -a -q '^< 227 ' blocked.log

# =========================================================================
section "3. The helper attached: passive and active transfers work"
# =========================================================================
say "Attach the helper to new connections to port 21.  Then forget the" \
    "failed attempt's connections, and watch the expectations: the helper" \
    "reads the 227 reply or the PORT command and tells conntrack which" \
    "connection to expect; that connection is then RELATED." ""
run fw "nft add rule inet demo pre tcp dport $FTP_PORT 'ct helper set \"ftp-std\"'"
check "helper attached" test $? = 0
run fw "nft list chain inet demo pre"
run fw "conntrack -F"
: > "$EVENTS"
printf '    fw$ conntrack -E expect > %s &\n' "$(basename "$EVENTS")"
# Not through in_ns (a function, hence a subshell): $! must be conntrack.
ip netns exec $FW_NS conntrack -E expect > "$EVENTS" 2>&1 &
events_pid=$!
wait_socket $events_pid
check "conntrack -E expect listening" kill -0 $events_pid

say "" "Passive (PASV):" ""
run srv "sha256sum $FTP_ROOT/$FTP_FILE"
run cli "curl -sSv --max-time $FTP_MAX_TIME --ftp-pasv --disable-epsv -o pasv.bin ftp://$SRV_IP4/$FTP_FILE 2> pasv.log"
rc=$?
run cli "grep -a -E '^(> PASV|< 227)' pasv.log; sha256sum pasv.bin"
events_show
port=$(data_port pasv.log 227)
check "passive transfer works (curl exit $rc)" test "$rc" = 0
check "the file arrived intact (sha256 matches the server's)" sha_ok pasv.bin
check "expectation created for the 227's data port ${port:-?}" event_new_to "$port"

say "" "Active (PORT): the server connects back to the client:" ""
run cli "curl -sSv --max-time $FTP_MAX_TIME --ftp-port $CLI_IP4 --disable-eprt -o port.bin ftp://$SRV_IP4/$FTP_FILE 2> port.log"
rc=$?
run cli "grep -a -E '^(> PORT|< 200)' port.log; sha256sum port.bin"
events_show
port=$(data_port port.log PORT)
check "active transfer works (curl exit $rc)" test "$rc" = 0
check "the file arrived intact (sha256 matches the server's)" sha_ok port.bin
check "expectation created for the PORT's data port ${port:-?}" event_new_to "$port"

say "" "The control connections carry the helper:" ""
run fw "conntrack -L -p tcp --dport $FTP_PORT"
check "helper=ftp on the control connections" \
	eval "in_ns $FW_NS conntrack -L -p tcp --dport $FTP_PORT 2>/dev/null | grep -q 'helper=ftp'"

# =========================================================================
section "4. The counters"
# =========================================================================
say "Per network namespace, in /proc/net/nf_conntrack_ftp: every control" \
    "line examined, every expectation created, every refusal and its reason." ""
run fw "cat $STATS"
created=$(counter expectations_created)
check "two expectations counted (expectations_created = ${created:-?})" \
	test "${created:-0}" -ge 2

# =========================================================================
section "5. Hardening: no expectation to a privileged port"
# =========================================================================
say "PORT names any port of the client's address.  A helper that believes" \
    "it lets the server's side (or anyone who can speak through it) reach" \
    "ssh on port 22 of the client's host.  Ours refuses data ports below" \
    "min_port ($(cat /sys/module/nf_conntrack_ftp/parameters/min_port)).  A client asks for port 22, with python's ftplib." \
    "(vsftpd refuses such a PORT itself; not every server does, and the" \
    "firewall does not wait for the reply: it decides on the command.)" ""
before=$(counter refused_low_port)
created_before=$(counter expectations_created)
run cli "python3 -c 'import ftplib; f = ftplib.FTP(\"$SRV_IP4\", timeout=10); f.login(); c = \"PORT $(echo $CLI_IP4 | tr . ,),0,22\"; print(\">\", c); f.putcmd(c); print(\"<\", f.getline()); f.quit()'"
rc=$?
check "the PORT 22 command was sent (python exit $rc)" test "$rc" = 0
events_show
run fw "conntrack -L expect"
run fw "grep -E 'expectations_created|refused_low_port' $STATS"
after=$(counter refused_low_port)
created_after=$(counter expectations_created)
run vm "dmesg | grep 'nf_conntrack_ftp:' | tail -n 1"
check "no expectation for port 22" \
	eval "! event_new_to 22 && [ '$created_before' = '$created_after' ]"
check "refused_low_port moved ($before -> $after)" \
	delta_at_least "$before" "$after" 1
check "the refusal is logged" \
	eval "dmesg | grep 'nf_conntrack_ftp:' | tail -n 1 | grep -q 'PORT $CLI_IP4 port 22: .*min_port'"

# =========================================================================
section "6. NAT: the client behind masquerade, in active mode"
# =========================================================================
say "Now srv forgets its route to the client's network, and fw masquerades" \
    "the client behind its own address 198.51.100.1.  The client still says" \
    "PORT 192,0,2,2,...: unless nf_nat_ftp rewrites it, the server cannot" \
    "connect there (no route) and will not anyway (vsftpd accepts PORT only" \
    "to the control connection's peer)." ""
run srv "ip route del default; ip route"
cat > nat.nft <<EOF
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$FW_SRV_IF" masquerade
	}
}
EOF
run fw "nft -f nat.nft && nft list table ip nat"
check "masquerade loaded" test $? = 0
before=$(counter nat_rewrites)
say ""
run cli "curl -sSv --max-time $FTP_MAX_TIME --ftp-port $CLI_IP4 --disable-eprt -o nat.bin ftp://$SRV_IP4/$FTP_FILE 2> nat.log"
rc=$?
say "" "What the client sent:" ""
run cli "grep -a -E '^(> PORT|< 200)' nat.log; sha256sum nat.bin"
say "" "What the server received (vsftpd's protocol log):" ""
run srv "grep -a -E 'CONNECT|\"PORT ' $VSFTPD_LOG | tail -n 2"
events_show
after=$(counter nat_rewrites)
run fw "grep nat_rewrites $STATS"
check "active transfer through masquerade works (curl exit $rc)" test "$rc" = 0
check "the file arrived intact (sha256 matches the server's)" sha_ok nat.bin
check "the client sent PORT $(echo $CLI_IP4 | tr . ,),..." \
	grep -a -q "^> PORT $(echo $CLI_IP4 | tr . ,)," nat.log
check "the server received PORT $(echo $FW_SRV_IP4 | tr . ,),..." \
	eval "grep -a '\"PORT ' $VSFTPD_LOG | tail -n 1 | grep -q '\"PORT $(echo $FW_SRV_IP4 | tr . ,),'"
check "nat_rewrites moved ($before -> $after)" \
	delta_at_least "$before" "$after" 1

# =========================================================================
section "7. Wrap-up"
# =========================================================================
say "Nothing went wrong in the kernel while all this ran (no BUG, WARNING," \
    "Oops, KASAN, lockdep, ... since the demo started):" ""
printf '    vm$ dmesg_clean    # lib.sh\n'
dmesg_clean > "$WORK/dmesg_clean.log" 2>&1
rc=$?
sed 's/^/      /' "$WORK/dmesg_clean.log"
check "kernel log clean" test "$rc" = 0

say ""
if [ ${#failed[@]} = 0 ]; then
	say "${B}demo: all $checks checks passed on $(uname -r) in ${SECONDS}s: passive and active FTP through the firewall, port 22 refused, PORT rewritten under NAT.${N}"
	exit 0
fi
say "${B}demo: ${#failed[@]} of $checks checks FAILED on $(uname -r) (${SECONDS}s):${N}"
printf '  - %s\n' "${failed[@]}"
exit 1
