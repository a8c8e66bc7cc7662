#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make demo": show what the helper does, narrated, in a throw-away VM.
#
# On this host: install what is missing (scripts/install-deps.sh), build
# nf_conntrack_ftp.ko and nf_nat_ftp.ko for one Debian test kernel and the
# selftest tools, then boot that kernel with selftests/vm/run-vm.sh and run
# selftests/demo.sh in it: a client, a firewall and an FTP server in three
# network namespaces, passive and active transfers through an nftables
# firewall with and without the helper, the expectations it creates, its
# counters, a refused PORT to port 22, and active FTP through masquerade.
# Every command the demo runs is printed with its real output.
#
# The exit status is the VM's: 0 only if every step that should work did.
#
# Environment:
#   KVER=6.1.0-56-amd64    kernel to boot (default: the newest kernel in
#                          /boot that has headers in /lib/modules/*/build)
#   VM_TIMEOUT=900         seconds before the VM is killed
#   SKIP_DEPS=1            do not check/install packages
#
# The console log of the last run is kept in build/demo/vm-<KVER>.log.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

VM_TIMEOUT=${VM_TIMEOUT:-900}
out=$top/build/demo

fail()
{
	echo "demo: FAILED: $*" >&2
	exit 1
}

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	./scripts/install-deps.sh || fail "installing the dependencies"
fi

if [ -z "${KVER:-}" ]; then
	KVER=$(for k in /boot/vmlinuz-*; do
		k=${k#/boot/vmlinuz-}
		[ -e "/lib/modules/$k/build/Makefile" ] && echo "$k"
	done | sort -V | tail -n 1)
	[ -n "$KVER" ] ||
		fail "no kernel in /boot with headers in /lib/modules (make deps)"
fi
[ -e "/boot/vmlinuz-$KVER" ] || fail "no /boot/vmlinuz-$KVER to boot"

mkdir -p "$out" || exit 1

echo "demo: building nf_conntrack_ftp.ko and nf_nat_ftp.ko for $KVER"
if ! make --no-print-directory modules KVER="$KVER" \
	> "$out/build-$KVER.log" 2>&1; then
	tail -n 20 "$out/build-$KVER.log"
	fail "module build for $KVER (see $out/build-$KVER.log)"
fi
if ! make --no-print-directory -C selftests/tools \
	> "$out/tools.log" 2>&1; then
	tail -n 20 "$out/tools.log"
	fail "building selftests/tools (see $out/tools.log)"
fi

# Bold section headers, only on a terminal.  The guest has no idea what
# this terminal is: hand it the sequences.
bold=
sgr0=
if [ -t 1 ] && command -v tput > /dev/null; then
	bold=$(tput bold 2>/dev/null)
	sgr0=$(tput sgr0 2>/dev/null)
fi

echo "demo: booting $KVER in a VM (under emulation this takes a few minutes)"
selftests/vm/run-vm.sh -k "$KVER" -t "$VM_TIMEOUT" \
	-e DEMO_BOLD="$bold" -e DEMO_SGR0="$sgr0" \
	-- "$top/selftests/demo.sh" | tee "$out/vm-$KVER.log"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then
	echo "demo: FAILED on $KVER (VM exit status $rc; console log in $out/vm-$KVER.log)" >&2
fi
exit "$rc"
