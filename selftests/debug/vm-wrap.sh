#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one selftest inside the check-debug VM and leave the kernel's
# verdict on the console for scripts/check-debug.sh to read:
#
#	vm-wrap.sh TEST [ARGS...]
#
# Before the test, kmemleak forgets what it found at boot; after it, our
# modules are unloaded (a stuck reference is a failure), kmemleak scans
# and its list is printed as "kmemleak: ..." lines, and the whole kernel
# log is printed as "kmsg: ..." lines (the console itself only shows
# errors).  The exit status is the test's.

# The first line: scripts/check-debug.sh waits for it to know that the
# VM booted (an early boot hang under TCG is retried).
echo "# vm-wrap: booted, running $*"

source "$(dirname "$(readlink -f "$0")")/../lib.sh"

KMEMLEAK=/sys/kernel/debug/kmemleak

kmemleak_scan()
{
	[ -w $KMEMLEAK ] || return 0
	echo scan > $KMEMLEAK
}

mountpoint -q /sys/kernel/debug ||
	mount -t debugfs debugfs /sys/kernel/debug 2> /dev/null
if [ -w $KMEMLEAK ]; then
	kmemleak_scan
	echo clear > $KMEMLEAK
else
	echo "# vm-wrap: no $KMEMLEAK, no leak check"
fi

"$@"
rc=$?

if __mod_loaded nf_nat_ftp || __mod_loaded nf_conntrack_ftp; then
	# The tests leave namespaces behind only when they failed.
	topo_cleanup
	if unload_ours; then
		echo "ok - vm-wrap: our modules unloaded after the test"
	else
		echo "not ok - vm-wrap: our modules unloaded after the test"
		grep -E '^nf_(nat|conntrack)_ftp ' /proc/modules | sed 's/^/# /'
	fi
fi

if [ -w $KMEMLEAK ]; then
	# An object is reported once it has been unreferenced for 5 s:
	# scan, let that much time pass, scan again.
	kmemleak_scan
	sleep 6
	kmemleak_scan
	sed 's/^/kmemleak: /' $KMEMLEAK
fi

echo "# vm-wrap: kernel log follows"
dmesg | sed 's/^/kmsg: /'
exit $rc
