#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Core selftest of the FTP conntrack helper.  Run it in the VM:
#
#	selftests/vm/run-vm.sh -- /work/main/selftests/conntrack.sh
#
# The firewall fw forwards only replies, RELATED connections and new
# control connections (FORWARD policy drop), so a data connection passes
# only through an expectation set up by the helper.  Cases:
#
#  1. module load errors: every parameter is described, ports=0 and a
#     port given twice are refused with a reason in the kernel log;
#  2. helper loaded but not attached: passive and active data blocked;
#  3. helper attached by the iptables CT target: PASV, EPSV, PORT, EPRT
#     over IPv4, EPSV and EPRT over IPv6, data checked by sha256;
#     a CT rule or nft ct helper object naming a helper that does not
#     exist (ftp-2121 with ports=21) does not load;
#  4. expectations, seen while a client holds a data command pending:
#     the control connection carries helper=ftp, exactly one expectation
#     exists with the right tuple (any source port), helper, class and
#     timeout (ctexpect, and conntrack -L expect as a second witness),
#     and the data connection consumes it;
#  5. a PORT naming a third party opens nothing and is counted;
#  6. the same policy with an nftables ruleset only (ct helper object),
#     with its drop policy checked and a negative control;
#  7. ports=21,2121: helper ftp-2121 exists and works on port 2121;
#  8. unload and reload while transfers run (and with a line held in the
#     hold buffer), then new transfers; 10 load/unload cycles;
#  9. ours refuses to load beside the kernel's nf_conntrack_ftp and the
#     other way round; our nf_nat_ftp needs our nf_conntrack_ftp;
# 10. the kernel log stays clean.
#
# With FTP_HELPER_IMPL=kernel (a check of the test itself) the cases
# that are about our modules only are skipped.

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

CTEXPECT=$LIB_DIR/tools/ctexpect
CLIENT=$FTP_STATE_DIR/ctclient.py
WORK=$FTP_STATE_DIR/conntrack
BIG_FILE=big.bin
BIG_KIB=4096
# Socket buffers of cli (receive) and srv (send) during the downloads
# that must stay in flight: together far less than BIG_KIB.
BG_TCP_MEM="4096 32768 65536"
KMSG_MARK="conntrack.sh: step"
PLAN=62

declare -A CLIENT_PID=()

cleanup()
{
	local pid

	for pid in "${CLIENT_PID[@]}"; do
		kill "$pid" 2> /dev/null
	done
	ftpd_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
}
trap cleanup EXIT

ours()
{
	[ "$FTP_HELPER_IMPL" != kernel ]
}

# =========================================================================
# Test-local helpers
# =========================================================================

# counter NAME: one of the helper's counters in fw's namespace.
counter()
{
	in_ns $FW_NS awk -v n="$1" '$1 == n { print $2 }' \
		/proc/net/nf_conntrack_ftp 2> /dev/null
}

# kmsg_step: mark the kernel log; kmsg_since prints what follows.  Not
# dmesg_mark, which would narrow the final dmesg_clean.
__kmsg_n=0
kmsg_step()
{
	__kmsg_n=$((__kmsg_n + 1))
	echo "$KMSG_MARK $$.$__kmsg_n" > /dev/kmsg
}

kmsg_since()
{
	dmesg | awk -v mark="$KMSG_MARK $$.$__kmsg_n" \
		'index($0, mark) { buf = ""; seen = 1; next }
		 seen { buf = buf $0 "\n" } END { printf "%s", buf }'
}

# fw_policy PORT...: FORWARD policy drop; replies, RELATED connections
# and new connections to PORTs pass (IPv4 and IPv6).
fw_policy()
{
	local ipt port

	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -P FORWARD DROP &&
		in_ns $FW_NS $ipt -A FORWARD -m conntrack \
			--ctstate ESTABLISHED,RELATED -j ACCEPT || return 1
		for port in "$@"; do
			in_ns $FW_NS $ipt -A FORWARD -p tcp --dport "$port" \
				-m conntrack --ctstate NEW -j ACCEPT || return 1
		done
	done
}

# fw_ct HELPER PORT: attach HELPER to connections to PORT (CT target).
fw_ct()
{
	local ipt

	for ipt in iptables ip6tables; do
		in_ns $FW_NS $ipt -t raw -A PREROUTING -p tcp --dport "$2" \
			-j CT --helper "$1" || return 1
	done
}

# fw_ct_remove: drop every CT rule (they hold the helper module).
fw_ct_remove()
{
	in_ns $FW_NS iptables -t raw -F PREROUTING &&
	in_ns $FW_NS ip6tables -t raw -F PREROUTING
}

# fw_standard: reset fw, policy for port 21, helper ftp attached.
fw_standard()
{
	fw_reset
	fw_policy $FTP_PORT && fw_ct ftp $FTP_PORT
}

# exp_count: number of expectations in fw.
exp_count()
{
	in_ns $FW_NS "$CTEXPECT" count
}

# field NAME LINE: the value of NAME= in a ctexpect line.
field()
{
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"
}

# --- the test client --------------------------------------------------------

# An FTP client that stops half way: it logs in, sends the data command
# and reports the announced port, then waits for a go file before using
# the data connection; the test looks at fw's state meanwhile.
write_client()
{
	mkdir -p "$WORK" || return 1
	cat > "$CLIENT" <<-'EOF'
	# SPDX-License-Identifier: GPL-2.0
	"""ctclient MODE HOST PORT STATE GO [FILE [STALL]]

	MODE: pasv, epsv, port, eprt (announce, wait for GO, RETR FILE),
	third (PORT naming 203.0.113.9), partial (half a PORT line, wait for
	GO, the rest).  Progress is appended to STATE as key=value lines.
	With STALL (a number of bytes), RETR at once, stop reading the data
	after STALL bytes and wait for GO there instead.
	"""
	import hashlib
	import os
	import re
	import socket
	import sys
	import time


	def die(msg):
	    print("ctclient: " + msg, file=sys.stderr, flush=True)
	    sys.exit(1)


	class Session:
	    def __init__(self, host, port, state):
	        self.state = state
	        self.host = host
	        self.ctl = socket.create_connection((host, port), timeout=60)
	        self.ctl.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
	        self.rf = self.ctl.makefile("rb")
	        self.check(self.reply(), "220")

	    def reply(self):
	        line = self.rf.readline()
	        if len(line) < 4:
	            die("control connection closed")
	        code = line[:3]
	        while line[3:4] == b"-" or line[:3] != code:
	            line = self.rf.readline()
	            if not line:
	                die("control connection closed in a reply")
	            if line[:3] == code and line[3:4] == b" ":
	                break
	        return line.decode("ascii", "replace").rstrip("\r\n")

	    def send(self, raw):
	        self.ctl.sendall(raw.encode("ascii"))

	    def cmd(self, text):
	        self.send(text + "\r\n")
	        return self.reply()

	    @staticmethod
	    def check(reply, code):
	        if not reply.startswith(code):
	            die("wanted %s, got %r" % (code, reply))
	        return reply

	    def report(self, key, value):
	        with open(self.state, "a") as f:
	            f.write("%s=%s\n" % (key, value))

	    def login(self):
	        r = self.cmd("USER anonymous")
	        if r.startswith("331"):
	            r = self.cmd("PASS ctclient@")
	        self.check(r, "230")
	        self.check(self.cmd("TYPE I"), "200")

	    def quit(self):
	        self.check(self.cmd("QUIT"), "221")
	        self.ctl.close()


	def wait_go(go):
	    end = time.monotonic() + 120
	    while not os.path.exists(go):
	        if time.monotonic() > end:
	            die("no go")
	        time.sleep(0.05)


	def read_all(s, sock, stall, go):
	    h = hashlib.sha256()
	    sock.settimeout(60)
	    got = 0
	    while True:
	        if stall and got >= stall:
	            s.report("stalled", got)
	            wait_go(go)
	            stall = 0
	        chunk = sock.recv(min(65536, stall - got) if stall else 65536)
	        if not chunk:
	            break
	        got += len(chunk)
	        h.update(chunk)
	    sock.close()
	    s.report("bytes", got)
	    return h.hexdigest()


	def main():
	    if len(sys.argv) < 6:
	        die("usage: ctclient MODE HOST PORT STATE GO [FILE]")
	    mode, host, port, state, go = sys.argv[1:6]
	    name = sys.argv[6] if len(sys.argv) > 6 else "testfile.bin"
	    stall = int(sys.argv[7]) if len(sys.argv) > 7 else 0
	    s = Session(host, int(port), state)
	    s.login()
	    local = s.ctl.getsockname()[0]
	    s.report("sport", s.ctl.getsockname()[1])

	    if mode in ("pasv", "epsv"):
	        if mode == "pasv":
	            r = s.check(s.cmd("PASV"), "227")
	            m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", r)
	            if not m:
	                die("bad 227: %r" % r)
	            addr = ".".join(m.group(1, 2, 3, 4))
	            dport = int(m.group(5)) * 256 + int(m.group(6))
	        else:
	            r = s.check(s.cmd("EPSV"), "229")
	            m = re.search(r"\(\|\|\|(\d+)\|\)", r)
	            if not m:
	                die("bad 229: %r" % r)
	            addr = host
	            dport = int(m.group(1))
	        s.report("port", dport)
	        if not stall:
	            wait_go(go)
	        data = socket.create_connection((addr, dport), timeout=30)
	        s.check(s.cmd("RETR " + name), "150")
	        s.report("sha256", read_all(s, data, stall, go))
	        s.check(s.reply(), "226")
	    elif mode in ("port", "eprt"):
	        lsock = socket.socket(s.ctl.family, socket.SOCK_STREAM)
	        lsock.bind((local, 0))
	        lsock.listen(1)
	        lsock.settimeout(30)
	        dport = lsock.getsockname()[1]
	        if mode == "port":
	            r = s.cmd("PORT %s,%d,%d" % (local.replace(".", ","),
	                                         dport >> 8, dport & 255))
	        else:
	            af = 2 if s.ctl.family == socket.AF_INET6 else 1
	            r = s.cmd("EPRT |%d|%s|%d|" % (af, local, dport))
	        s.check(r, "200")
	        s.report("port", dport)
	        if not stall:
	            wait_go(go)
	        s.check(s.cmd("RETR " + name), "150")
	        data, _ = lsock.accept()
	        lsock.close()
	        s.report("sha256", read_all(s, data, stall, go))
	        s.check(s.reply(), "226")
	    elif mode == "third":
	        r = s.cmd("PORT 203,0,113,9,156,64")
	        s.report("reply", r[:3])
	        wait_go(go)
	    elif mode == "partial":
	        line = "PORT %s,195,80\r\n" % local.replace(".", ",")
	        cut = len(line) // 2
	        s.send(line[:cut])
	        s.report("sent", cut)
	        wait_go(go)
	        s.send(line[cut:])
	        s.report("reply", s.reply()[:3])
	    else:
	        die("unknown mode " + mode)
	    s.quit()
	    s.report("done", 1)


	main()
	EOF
}

# client_start NAME MODE HOST PORT [FILE [STALL]]: run the client in cli.
client_start()
{
	local name=$1

	shift
	rm -f "$WORK/$name.state" "$WORK/$name.go"
	ip netns exec $CLI_NS python3 "$CLIENT" "$1" "$2" "$3" \
		"$WORK/$name.state" "$WORK/$name.go" "${@:4}" \
		> "$WORK/$name.log" 2>&1 &
	CLIENT_PID[$name]=$!
}

# client_get NAME KEY [SECONDS]: wait for KEY in the client's state, print
# its value.
client_get()
{
	local i value

	for i in $(seq $((${3:-30} * 10))); do
		value=$(sed -n "s/^$2=//p" "$WORK/$1.state" 2> /dev/null)
		if [ -n "$value" ]; then
			echo "$value"
			return 0
		fi
		kill -0 "${CLIENT_PID[$1]}" 2> /dev/null || break
		sleep 0.1
	done
	# One last look: the client may have written it as it exited.
	value=$(sed -n "s/^$2=//p" "$WORK/$1.state" 2> /dev/null)
	[ -n "$value" ] && { echo "$value"; return 0; }
	# Our output is the value: diagnostics go to stderr.
	{
		diag "client $1: no $2"
		diag_file "$WORK/$1.log" 5
	} >&2
	return 1
}

# client_finish NAME: let the client go on and wait for it to exit.
client_finish()
{
	local rc

	touch "$WORK/$1.go"
	wait "${CLIENT_PID[$1]}"
	rc=$?
	unset "CLIENT_PID[$1]"
	if [ $rc -ne 0 ]; then
		diag "client $1 exited with $rc"
		diag_file "$WORK/$1.log" 5
	fi
	return $rc
}

# client_kill NAME: stop a client that is not going anywhere.
client_kill()
{
	[ -n "${CLIENT_PID[$1]}" ] || return 0
	kill "${CLIENT_PID[$1]}" 2> /dev/null
	wait "${CLIENT_PID[$1]}" 2> /dev/null
	unset "CLIENT_PID[$1]"
}

# expect_session TAG MODE FAMILY HELPER [PORT]: a client announces a data
# port (MODE pasv, epsv, port or eprt) on the control connection to PORT
# (default 21) and waits; four results:
#  - the control connection carries helper=HELPER;
#  - ctexpect: exactly one expectation, for the announced port, with
#    helper HELPER, class 0, a timeout of at most 300 s, the right
#    expected tuple and any source port;
#  - conntrack -L expect shows the same;
#  - the data connection goes through (data intact) and consumes it.
expect_session()
{
	local tag=$1 mode=$2 family=$3 helper=$4 cport=${5:-$FTP_PORT}
	local srv cli bsrv bcli fam mask p line n want errs=() ct witness
	local sha name sport t

	case $family in
	v4)	srv=$SRV_IP4; cli=$CLI_IP4; bsrv=$srv; bcli=$cli
		fam=ipv4; mask=255.255.255.255 ;;
	v6)	srv=$SRV_IP6; cli=$CLI_IP6; bsrv="[$srv]"; bcli="[$cli]"
		fam=ipv6; mask=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ;;
	esac
	case $mode in
	pasv|epsv)	want="$bcli:0->$bsrv:" ;;
	port|eprt)	want="$bsrv:0->$bcli:" ;;
	esac

	name=$tag
	name=${name// /-}
	name=${name//[^A-Za-z0-9-]/}
	client_start "$name" "$mode" "$srv" "$cport" "$FTP_FILE"
	if ! p=$(client_get "$name" port 30); then
		client_kill "$name"
		not_ok "$tag: control connection has helper=$helper" "client failed"
		not_ok "$tag: exactly one expectation, right tuple" "client failed"
		not_ok "$tag: conntrack -L expect shows it" "client failed"
		not_ok "$tag: data connection uses it" "client failed"
		return
	fi
	want+=$p
	sport=$(client_get "$name" sport 1)

	# The control connection, while it is open.
	ct=$(in_ns $FW_NS conntrack -L -f $fam -p tcp --dport "$cport" 2> /dev/null)
	if grep -q "sport=$sport dport=$cport .*helper=$helper\( \|\$\)" <<< "$ct"; then
		ok "$tag: control connection has helper=$helper"
	else
		not_ok "$tag: control connection has helper=$helper"
		diag "$ct"
	fi

	# The expectation, through libnetfilter_conntrack.
	line=$(in_ns $FW_NS "$CTEXPECT" wait --dport "$p" --timeout 10 \
		--helper "$helper")
	n=$(exp_count)
	if [ -z "$line" ]; then
		errs+=("no expectation for port $p with helper $helper")
	else
		[ "$(field family "$line")" = $fam ] || errs+=("family")
		[ "$(field proto "$line")" = tcp ] || errs+=("proto")
		[ "$(field helper "$line")" = "$helper" ] || errs+=("helper")
		[ "$(field class "$line")" = 0 ] || errs+=("class")
		t=$(field timeout "$line")
		{ [ "$t" -gt 200 ] && [ "$t" -le 300 ]; } 2> /dev/null ||
			errs+=("timeout '$t'")
		case $(field master "$line") in
		"$bcli:"*"->$bsrv:$cport") ;;
		*)	errs+=("master") ;;
		esac
		[ "$(field expected "$line")" = "$want" ] ||
			errs+=("expected tuple, want $want")
		[ "$(field mask_src "$line")" = $mask ] || errs+=("mask_src")
		[ "$(field mask_src_port "$line")" = 0 ] ||
			errs+=("mask_src_port")
	fi
	[ "$n" = 1 ] || errs+=("$n expectations")
	if [ ${#errs[@]} -eq 0 ]; then
		ok "$tag: exactly one expectation, right tuple"
	else
		not_ok "$tag: exactly one expectation, right tuple" "${errs[*]}"
		diag "$line"
		in_ns $FW_NS "$CTEXPECT" dump | sed 's/^/# /'
	fi

	# Second witness: conntrack -L expect.
	witness=$(in_ns $FW_NS conntrack -L expect -f $fam 2> /dev/null)
	case $mode in
	pasv|epsv)	want="src=$cli dst=$srv sport=0 dport=$p " ;;
	port|eprt)	want="src=$srv dst=$cli sport=0 dport=$p " ;;
	esac
	if grep -qF "$want" <<< "$witness" &&
	   grep -q "helper=$helper\( \|\$\)" <<< "$witness" &&
	   [ "$(grep -c "proto=6" <<< "$witness")" = 1 ]; then
		ok "$tag: conntrack -L expect shows it"
	else
		not_ok "$tag: conntrack -L expect shows it" "want '$want' helper=$helper"
		diag "$witness"
	fi

	# The data connection passes the drop policy and uses it up.
	if ! client_finish "$name"; then
		not_ok "$tag: data connection uses it" "client failed"
		return
	fi
	sha=$(sed -n 's/^sha256=//p' "$WORK/$name.state")
	n=$(exp_count)
	if [ "$sha" != "$(ftp_expected_sha256)" ]; then
		not_ok "$tag: data connection uses it" "data sha256 '$sha'"
	elif [ "$n" != 0 ]; then
		not_ok "$tag: data connection uses it" "$n expectations left"
	else
		ok "$tag: data connection uses it"
	fi
}

# =========================================================================
ktap_plan $PLAN
dmesg_mark
modprobe nf_conntrack_netlink 2> /dev/null

# --- 1. module load errors and parameter descriptions -----------------------
CT_KO=$FTP_HELPER_BUILD_DIR/nf_conntrack_ftp.ko
NAT_KO=$FTP_HELPER_BUILD_DIR/nf_nat_ftp.ko
if ! ours; then
	skip "modinfo: every parameter described" "FTP_HELPER_IMPL=kernel"
	skip "ports=0 refused, the kernel log says why" "FTP_HELPER_IMPL=kernel"
	skip "ports=21,21 refused, the kernel log says why" "FTP_HELPER_IMPL=kernel"
elif ! ours_available; then
	for name in "modinfo: every parameter described" \
		    "ports=0 refused, the kernel log says why" \
		    "ports=21,21 refused, the kernel log says why"; do
		not_ok "$name" "$(helper_unavailable_reason)"
	done
else
	missing=
	for p in ports loose min_port pairing; do
		desc=$(modinfo -F parm "$CT_KO" | sed -n "s/^$p:\(.*\)/\1/p")
		# "(type)" alone is what modinfo prints for no description.
		case $desc in
		""|"("*")")	missing+=" $p" ;;
		esac
	done
	if [ -z "$missing" ]; then
		ok "modinfo: every parameter described"
	else
		not_ok "modinfo: every parameter described" "no description:$missing"
	fi

	modprobe nf_conntrack
	unload_ours > /dev/null 2>&1
	for args in "ports=0|ports: 0 is not a port" \
		    "ports=21,21|ports: 21 given twice"; do
		param=${args%%|*}
		why=${args#*|}
		kmsg_step
		if insmod "$CT_KO" "$param" 2> /dev/null; then
			rmmod nf_conntrack_ftp
			not_ok "$param refused, the kernel log says why" "it loaded"
		elif [ -d /sys/module/nf_conntrack_ftp ]; then
			not_ok "$param refused, the kernel log says why" "a module is loaded"
		elif ! kmsg_since | grep -qF "nf_conntrack_ftp: $why"; then
			not_ok "$param refused, the kernel log says why" "no '$why' in the log"
			kmsg_since | tail -n 5 | sed 's/^/# /'
		else
			ok "$param refused, the kernel log says why"
		fi
	done
fi

# --- setup ---------------------------------------------------------------------
if [ ! -x "$CTEXPECT" ]; then
	diag "building $CTEXPECT"
	make -C "$LIB_DIR/tools" > /dev/null 2>&1
fi
check_cmd "setup: ctexpect and the test client" \
	bash -c "[ -x '$CTEXPECT' ] && python3 -c 'import hashlib, socket'"
write_client || diag "cannot write $CLIENT"
if topo_setup && topo_ping && ftpd_start $FTP_PORT v4 &&
   ftpd_start $FTP_PORT v6; then
	ok "setup: topology and vsftpd (IPv4, IPv6)"
else
	not_ok "setup: topology and vsftpd (IPv4, IPv6)"
fi
if helper_available && run_logged load_ours ""; then
	ok "setup: modules loaded ($FTP_HELPER_IMPL)"
else
	not_ok "setup: modules loaded ($FTP_HELPER_IMPL)"
fi

# --- 2. loaded but not attached: data blocked ---------------------------------
fw_reset
fw_policy $FTP_PORT || diag "cannot install the FORWARD policy"
check_ftp_blocked "no helper attached: PASV IPv4 blocked" pasv v4 $SRV_IP4
check_ftp_blocked "no helper attached: PORT IPv4 blocked" port v4 $SRV_IP4

# --- 3. iptables CT target ----------------------------------------------------------
fw_ct ftp $FTP_PORT || diag "cannot attach the helper"
check_ftp "CT --helper ftp: PASV IPv4" pasv v4 $SRV_IP4
check_ftp "CT --helper ftp: EPSV IPv4" epsv v4 $SRV_IP4
check_ftp "CT --helper ftp: PORT IPv4" port v4 $SRV_IP4
check_ftp "CT --helper ftp: EPRT IPv4" eprt v4 $SRV_IP4
check_ftp "CT --helper ftp: EPSV IPv6" epsv v6 $SRV_IP6
check_ftp "CT --helper ftp: EPRT IPv6" eprt v6 $SRV_IP6

# A helper that does not exist cannot be attached (ports=21 only).
if in_ns $FW_NS iptables -t raw -A PREROUTING -p tcp --dport 2121 \
	-j CT --helper ftp-2121 2> /dev/null; then
	not_ok "ports=21: CT --helper ftp-2121 refused" "the rule loaded"
	in_ns $FW_NS iptables -t raw -D PREROUTING -p tcp --dport 2121 \
		-j CT --helper ftp-2121
else
	ok "ports=21: CT --helper ftp-2121 refused"
fi
if in_ns $FW_NS nft -f - 2> /dev/null <<-EOF
	table inet ct2121 {
		ct helper ftp-alt {
			type "ftp-2121" protocol tcp
			l3proto inet
		}
	}
	EOF
then
	not_ok "ports=21: nft ct helper of type ftp-2121 refused" "the ruleset loaded"
	in_ns $FW_NS nft delete table inet ct2121
else
	ok "ports=21: nft ct helper of type ftp-2121 refused"
fi

# --- 4. expectations while a data command is pending ---------------------------------
fw_standard || diag "cannot set up the firewall"
expect_session "PASV IPv4 pending" pasv v4 ftp
expect_session "PORT IPv4 pending" port v4 ftp
expect_session "EPSV IPv6 pending" epsv v6 ftp

# --- 5. third-party address ---------------------------------------------------------
name="third-party PORT"
before=$(counter refused_third_party)
lines0=$(counter lines_examined)
client_start third third $SRV_IP4 $FTP_PORT
if reply=$(client_get third reply 30); then
	n=$(exp_count)
	after=$(counter refused_third_party)
	lines1=$(counter lines_examined)
	if [ "$n" = 0 ]; then
		ok "$name: no expectation (server replied $reply)"
	else
		not_ok "$name: no expectation" "$n expectations"
		in_ns $FW_NS "$CTEXPECT" dump | sed 's/^/# /'
	fi
	if ! ours; then
		skip "$name: refused_third_party counted once" "FTP_HELPER_IMPL=kernel"
	elif [ -n "$before" ] && [ "$after" = $((before + 1)) ] &&
	     [ "${lines1:-0}" -gt "${lines0:-0}" ]; then
		ok "$name: refused_third_party counted once"
	else
		not_ok "$name: refused_third_party counted once" \
			"'$before' -> '$after' (lines_examined '$lines0' -> '$lines1')"
	fi
	client_finish third || diag "third-party client failed"
else
	client_kill third
	not_ok "$name: no expectation" "client failed"
	not_ok "$name: refused_third_party counted once" "client failed"
fi

# --- 6. nftables only -----------------------------------------------------------------
fw_reset
if in_ns $FW_NS nft -f - <<-EOF
	table inet ct_test {
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
	EOF
then
	ok "nft: ruleset with ct helper object loaded"
else
	not_ok "nft: ruleset with ct helper object loaded" "nft -f failed"
fi
chain=$(in_ns $FW_NS nft list chain inet ct_test forward 2> /dev/null)
if grep -q "hook forward priority filter; policy drop;" <<< "$chain" &&
   ! in_ns $FW_NS iptables-save 2> /dev/null | grep -q '^-A' &&
   ! in_ns $FW_NS ip6tables-save 2> /dev/null | grep -q '^-A'; then
	ok "nft: forward chain policy drop, no iptables rules"
else
	not_ok "nft: forward chain policy drop, no iptables rules"
	diag "$chain"
fi
check_ftp "nft helper: PASV IPv4" pasv v4 $SRV_IP4
check_ftp "nft helper: PORT IPv4" port v4 $SRV_IP4
check_ftp "nft helper: EPSV IPv6" epsv v6 $SRV_IP6
check_ftp "nft helper: EPRT IPv6" eprt v6 $SRV_IP6
in_ns $FW_NS nft flush chain inet ct_test pre
in_ns $FW_NS conntrack -F > /dev/null 2>&1
check_ftp_blocked "nft without ct helper set: PASV IPv4 blocked" pasv v4 $SRV_IP4

# --- 7. a second server port --------------------------------------------------------
fw_reset
if run_logged load_ours "" ports=$FTP_PORT,2121; then
	ok "ports=21,2121: modules loaded"
else
	not_ok "ports=21,2121: modules loaded"
fi
ftpd_start 2121 v4 || diag "cannot start vsftpd on 2121"
fw_policy $FTP_PORT 2121 && fw_ct ftp $FTP_PORT ||
	diag "cannot set up the firewall"
if run_logged fw_ct ftp-2121 2121; then
	ok "ports=21,2121: CT --helper ftp-2121 loads"
else
	not_ok "ports=21,2121: CT --helper ftp-2121 loads"
fi
if in_ns $FW_NS nft -f - <<-EOF
	table inet ct2121 {
		ct helper ftp-alt {
			type "ftp-2121" protocol tcp
			l3proto inet
		}
	}
	EOF
then
	ok "ports=21,2121: nft ct helper of type ftp-2121 loads"
	in_ns $FW_NS nft delete table inet ct2121
else
	not_ok "ports=21,2121: nft ct helper of type ftp-2121 loads"
fi
check_ftp "port 2121: PASV IPv4" pasv v4 $SRV_IP4 2121
check_ftp "port 2121: PORT IPv4" port v4 $SRV_IP4 2121
expect_session "port 2121 PASV pending" pasv v4 ftp-2121 2121
check_ftp "ports=21,2121: PORT IPv4 on 21 still helped" port v4 $SRV_IP4

# --- 8. unload and reload under traffic -------------------------------------------------
fw_reset
run_logged load_ours "" || diag "cannot load the modules"
fw_policy $FTP_PORT && fw_ct ftp $FTP_PORT || diag "cannot set up the firewall"
head -c $((BIG_KIB * 1024)) /dev/urandom > "$FTP_ROOT/$BIG_FILE"
chmod 0644 "$FTP_ROOT/$BIG_FILE"
sha256sum "$FTP_ROOT/$BIG_FILE" | cut -d' ' -f1 > "$WORK/big.sha256"

# A client line split in two: the helper holds the first half.
partial0=$(counter partial_lines_carried)
client_start partial partial $SRV_IP4 $FTP_PORT
held=0
if client_get partial sent 30 > /dev/null; then
	for i in $(seq 50); do
		[ "$(counter partial_lines_carried)" -gt "${partial0:-0}" ] \
			2> /dev/null && { held=1; break; }
		sleep 0.1
	done
fi
ours && [ $held = 0 ] && diag "no line held (partial_lines_carried '$partial0' -> '$(counter partial_lines_carried)')"

# Three downloads that stop reading after STALL_BYTES: with small socket
# buffers the rest of the file waits at the server, so they are surely
# mid-transfer while the modules go away and come back.  (curl's
# --limit-rate does not hold an FTP download back, and timing a curl is
# not reliable under emulation.)
STALL_BYTES=262144
rmem=$(in_ns $CLI_NS sysctl -n net.ipv4.tcp_rmem)
wmem=$(in_ns $SRV_NS sysctl -n net.ipv4.tcp_wmem)
in_ns $CLI_NS sysctl -qw net.ipv4.tcp_rmem="$BG_TCP_MEM"
in_ns $SRV_NS sysctl -qw net.ipv4.tcp_wmem="$BG_TCP_MEM"
client_start bg-pasv4 pasv $SRV_IP4 $FTP_PORT $BIG_FILE $STALL_BYTES
client_start bg-port4 port $SRV_IP4 $FTP_PORT $BIG_FILE $STALL_BYTES
client_start bg-epsv6 epsv $SRV_IP6 $FTP_PORT $BIG_FILE $STALL_BYTES
stalled=0
for t in bg-pasv4 bg-port4 bg-epsv6; do
	client_get $t stalled 60 > /dev/null && stalled=$((stalled + 1))
done

unloaded=0
fw_ct_remove && run_logged unload_ours && unloaded=1
# Still waiting in the middle of the file: the transfers are in flight.
midway=0
for t in bg-pasv4 bg-port4 bg-epsv6; do
	kill -0 "${CLIENT_PID[$t]}" 2> /dev/null &&
		! grep -q '^bytes=' "$WORK/$t.state" && midway=$((midway + 1))
done
if [ $stalled = 3 ] && [ $unloaded = 1 ] && [ $midway = 3 ]; then
	ok "reload: unloaded while 3 transfers run and a line is held"
else
	not_ok "reload: unloaded while 3 transfers run and a line is held" \
		"stalled=$stalled unloaded=$unloaded midway=$midway"
fi
if run_logged load_ours "" && fw_ct ftp $FTP_PORT; then
	ok "reload: loaded again, helper attached"
else
	not_ok "reload: loaded again, helper attached"
fi
if client_finish partial &&
   [ "$(sed -n 's/^reply=//p' "$WORK/partial.state")" = 200 ] &&
   { [ $held = 1 ] || ! ours; }; then
	ok "reload: the session with a held half line goes on"
else
	not_ok "reload: the session with a held half line goes on" \
		"held=$held reply='$(sed -n 's/^reply=//p' "$WORK/partial.state")'"
fi
intact=1
for t in bg-pasv4 bg-port4 bg-epsv6; do
	touch "$WORK/$t.go"
done
for t in bg-pasv4 bg-port4 bg-epsv6; do
	if ! client_finish $t; then
		intact=0
	elif [ "$(sed -n 's/^sha256=//p' "$WORK/$t.state")" != \
	       "$(cat "$WORK/big.sha256")" ]; then
		diag "$t: data corrupted ($(sed -n 's/^bytes=//p' "$WORK/$t.state") bytes)"
		intact=0
	fi
done
in_ns $CLI_NS sysctl -qw net.ipv4.tcp_rmem="$rmem"
in_ns $SRV_NS sysctl -qw net.ipv4.tcp_wmem="$wmem"
result "reload: the transfers in flight completed intact" $((1 - intact))
check_ftp "reload: new PASV IPv4" pasv v4 $SRV_IP4
check_ftp "reload: new PORT IPv4" port v4 $SRV_IP4
check_ftp "reload: new EPRT IPv6" eprt v6 $SRV_IP6
rm -f "$FTP_ROOT/$BIG_FILE"

fw_reset
cycles=0
for i in $(seq 10); do
	load_ours "" > "$WORK/cycle.log" 2>&1 &&
		unload_ours >> "$WORK/cycle.log" 2>&1 || break
	cycles=$i
done
if [ $cycles = 10 ]; then
	ok "10 load/unload cycles without traffic"
else
	not_ok "10 load/unload cycles without traffic" "cycle $((cycles + 1)) failed"
	diag_file "$WORK/cycle.log" 5
fi
check_dmesg "reload: kernel log clean"

# --- 9. beside the kernel's own FTP helper -----------------------------------------------
KERNEL_CT=$(__kernel_module_path nf_conntrack_ftp)
names=(
	"kernel's nf_conntrack_ftp loaded by path"
	"ours refused beside the kernel's (File exists)"
	"our nf_nat_ftp refused beside the kernel's nf_conntrack_ftp"
	"kernel's nf_conntrack_ftp refused beside ours (File exists)"
	"coexistence: kernel log clean"
)
if ! ours; then
	for name in "${names[@]}"; do
		skip "$name" "FTP_HELPER_IMPL=kernel"
	done
else
	unload_ours > /dev/null 2>&1
	case $KERNEL_CT in
	/lib/modules/"$(uname -r)"/kernel/*) ;;
	*)	diag "the kernel's module is '$KERNEL_CT'"; KERNEL_CT= ;;
	esac
	if [ -n "$KERNEL_CT" ] && insmod "$KERNEL_CT" &&
	   ! __verify_ours nf_conntrack_ftp "$CT_KO" 2> /dev/null; then
		ok "${names[0]}"
	else
		not_ok "${names[0]}" "${KERNEL_CT:-not found}"
	fi

	out=$(insmod "$CT_KO" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && grep -q "File exists" <<< "$out" &&
	   ! __verify_ours nf_conntrack_ftp "$CT_KO" 2> /dev/null; then
		ok "${names[1]}"
	else
		not_ok "${names[1]}" "insmod exit $rc: $out"
	fi

	kmsg_step
	out=$(insmod "$NAT_KO" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ ! -d /sys/module/nf_nat_ftp ] &&
	   kmsg_since | grep -q "nf_nat_ftp: Unknown symbol"; then
		ok "${names[2]}"
	else
		not_ok "${names[2]}" "insmod exit $rc: $out"
		kmsg_since | tail -n 5 | sed 's/^/# /'
		rmmod nf_nat_ftp 2> /dev/null
	fi
	__rmmod_wait nf_conntrack_ftp || diag "cannot unload the kernel's module"

	if run_logged load_ours ""; then
		out=$(insmod "$KERNEL_CT" 2>&1)
		rc=$?
		if [ $rc -ne 0 ] && grep -q "File exists" <<< "$out" &&
		   __verify_ours nf_conntrack_ftp "$CT_KO"; then
			ok "${names[3]}"
		else
			not_ok "${names[3]}" "insmod exit $rc: $out"
		fi
	else
		not_ok "${names[3]}" "cannot load ours"
	fi
	unload_ours || diag "cannot unload ours"
	check_dmesg "${names[4]}"
fi

# --- 10. the end ---------------------------------------------------------------------------
ftpd_stop
topo_cleanup
check_dmesg "kernel log clean"

ktap_finished
