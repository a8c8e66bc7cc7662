#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": build the modules for one test kernel and the load tool,
# boot one throw-away VM and run selftests/bench/bench-vm.sh in it, which
# compares no helper, the kernel's own helper pair and ours side by side
# (control channel scan throughput, PASV transfer rate, memory per
# connection; see that script for what is measured and how).
#
# Prints the accelerator and kernel, a table of medians, the speed of
# our parser alone run natively on this host (selftests/bench/parsebench.c:
# without KVM the VM's figures are those of an emulated CPU) and, last:
#	bench: ours/kernel X.XX ours/nohelper Y.YY
# (control channel scan throughput ratios).  Exits non-zero if the build,
# the VM or any configuration failed; figures are never asserted.
#
# Environment:
#   KVER=6.1.0-56-amd64    kernel to boot (default: the newest in /boot
#                          with headers)
#   ROUNDS=3               rounds, alternating the configurations' order
#   BENCH_*                passed on to bench-vm.sh (BENCH_SCAN_SECS,
#                          BENCH_SCAN_BYTES, BENCH_LINES, BENCH_TRANSFERS,
#                          BENCH_PER_CURL, BENCH_CONNS, BENCH_VERBOSE,
#                          BENCH_PROFILE)
#   VM_TIMEOUT=1200        seconds before the VM is killed
#
# The whole console log is kept in build/bench/vm-<KVER>.log.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

ROUNDS=${ROUNDS:-3}
VM_TIMEOUT=${VM_TIMEOUT:-1200}
case $ROUNDS in
''|*[!0-9]*|0)	echo "bench: ROUNDS must be a positive number" >&2; exit 2 ;;
esac

if [ -z "${KVER:-}" ]; then
	KVER=$(for k in /boot/vmlinuz-*; do
		k=${k#/boot/vmlinuz-}
		[ -e "/lib/modules/$k/build/Makefile" ] && echo "$k"
	done | sort -V | tail -n 1)
	if [ -z "$KVER" ]; then
		echo "bench: no kernel in /boot with headers (make deps)" >&2
		exit 1
	fi
fi

out=$top/build/bench
mkdir -p "$out" || exit 1

echo "# building the modules for $KVER"
if ! make --no-print-directory modules KVER="$KVER" \
	> "$out/build-$KVER.log" 2>&1; then
	tail -n 20 "$out/build-$KVER.log"
	echo "bench: FAILED: module build for $KVER (see $out/build-$KVER.log)"
	exit 1
fi
# The reference helper "ftpnull" (selftests/bench/nf_ftp_null.c): the
# floor the FTP helpers are measured against.
null=$out/null-$KVER
mkdir -p "$null" || exit 1
ln -sfn "$top/selftests/bench/nf_ftp_null.c" "$null/nf_ftp_null.c"
echo 'obj-m := nf_ftp_null.o' > "$null/Kbuild"
if ! make --no-print-directory -C "/lib/modules/$KVER/build" M="$null" W=1 \
	modules > "$out/build-null-$KVER.log" 2>&1; then
	tail -n 20 "$out/build-null-$KVER.log"
	echo "bench: FAILED: nf_ftp_null.ko build for $KVER"
	exit 1
fi
cc=${CC:-gcc}
cflags=(-O2 -g -std=gnu11 -Wall -Wextra -Werror)
# The parser as the kernel builds it: no SIMD, no auto-vectorisation.
if ! $cc "${cflags[@]}" -o "$out/ftpload" selftests/bench/ftpload.c ||
   ! $cc "${cflags[@]}" -Iinclude -mgeneral-regs-only -fno-tree-vectorize \
	-c -o "$out/nf_ftp_parse.o" nf_ftp_parse.c ||
   ! $cc "${cflags[@]}" -Iinclude -o "$out/parsebench" \
	selftests/bench/parsebench.c "$out/nf_ftp_parse.o"; then
	echo "bench: FAILED: building the tools in selftests/bench/"
	exit 1
fi

# The parser alone, natively (meaningful when the VM runs under TCG).
if ! native=$("$out/parsebench" 64); then
	echo "bench: FAILED: selftests/bench/parsebench"
	exit 1
fi
native=$(printf '%s\n' "$native" | awk '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "host, user space, parser only: %s MB/s (%s ns/line)",
		v["seg_mbs"], v["seg_nspl"]
	printf " in 52 KiB segments, %s Mlines/s one line per segment;",
		v["line_mlps"]
	printf " copying 52 KiB segments as the kernel helper does %s MB/s\n",
		v["copy_mbs"] }')
echo "# $native"

envs=(-e ROUNDS="$ROUNDS" -e FTPLOAD="$out/ftpload" \
	-e NULL_KO="$null/nf_ftp_null.ko")
for v in BENCH_SCAN_SECS BENCH_SCAN_BYTES BENCH_LINES BENCH_TRANSFERS \
	 BENCH_PER_CURL BENCH_CONNS BENCH_VERBOSE BENCH_PROFILE; do
	[ -n "${!v:-}" ] && envs+=(-e "$v=${!v}")
done

log=$out/vm-$KVER.log
echo "# booting $KVER (console log: $log)"
# Show the progress lines as they come; the table is printed at the end.
selftests/vm/run-vm.sh -k "$KVER" -t "$VM_TIMEOUT" "${envs[@]}" -- \
	"$top/selftests/bench/bench-vm.sh" > "$log" 2>&1 &
vm=$!
tail -n +1 --pid=$vm -f "$log" 2>/dev/null |
	grep --line-buffered -E '^(# |run-vm:|bench: FAILED)'
wait $vm
rc=$?

# The results block, without kernel messages that may have crept in.
table=$(sed -n '/^=== bench results ===$/,/^bench: ours/p' "$log" |
	grep -v -E '^(=== |\[ *[0-9]+\.[0-9]+\])')
last=$(printf '%s\n' "$table" | grep '^bench: ours/kernel ' | tail -n 1)

if [ $rc -ne 0 ] || [ -z "$last" ]; then
	echo "bench: FAILED (VM exit status $rc; see $log)"
	[ $rc -ne 0 ] && exit $rc
	exit 1
fi
printf '%s\n' "$table" | grep -v '^bench: ours/kernel '
echo "$native"
echo "$last"
