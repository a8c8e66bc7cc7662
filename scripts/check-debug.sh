#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-debug: the VM selftests and selftests/debug/stress.sh on a
# debug kernel (KASAN, kmemleak, lockdep, PREEMPT_RT, ...) built from
# Debian's linux-source-6.12.  Not part of make check (it takes long).
#
# The kernel is built once and cached outside the clone, in
# $DEBUG_CACHE/<key> (default /var/cache/nf-ftp-debug), the key derived
# from the source package's version and selftests/debug/config (+ its
# config.trim, which only makes the kernel smaller); a second
# run with the same key reuses it.  The extracted source is shared by all
# keys of one package version (src-<version>).
#
# Every test runs in its own VM (2 vCPUs, 2G) under selftests/debug/
# vm-wrap.sh, which unloads our modules afterwards, has kmemleak scan and
# dumps the kernel log; any kernel report (KASAN, lockdep, RCU, sleeping
# in atomic context, WARNING, BUG, Oops, kmemleak) fails the test.
#
# Environment:
#   DEBUG_CACHE=DIR        the cache (default /var/cache/nf-ftp-debug)
#   DEBUG_TESTS="a.sh ..." selftests to run (default: the VM selftests
#                          conntrack nat segment custody hardening smoke,
#                          and debug/stress.sh)
#   STRESS_SECONDS=N       load phase of stress.sh (default 90)
#   FTP_MAX_TIME=N, FTP_BLOCKED_MAX_TIME=N
#                          lib.sh's transfer time limits, longer here
#                          (default 60 and 20 s): the debug kernel is slow
#   DEBUG_BOOT_TIMEOUT=N   seconds a VM may take to reach the test
#                          (default 600); a VM that has not is stopped
#                          and started once more (seen: a TCG guest that
#                          hung early in boot, before any output)
#   DEBUG_BUILD_ONLY=1     build the kernel and our modules, run nothing
#   DEBUG_USE_KVER=KVER    no debug kernel: run the same on the installed
#                          kernel KVER (/boot) with what it can check at
#                          run time (slub_debug=FZPU, KFENCE); much weaker
#                          than KASAN/lockdep/kmemleak, but quick
#   SKIP_DEPS=1            do not check/install the packages
#
# The last line is "N passed, N failed".
set -u
# One compound command: bash reads it whole before running it, so editing
# this file while it runs (a long kernel build) does not derail the run.
{
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

CACHE=${DEBUG_CACHE:-/var/cache/nf-ftp-debug}
PKG=linux-source-6.12
TARBALL=/usr/src/$PKG.tar.xz
FRAG=$top/selftests/debug/config
TRIM=$top/selftests/debug/config.trim
# How the .config is made; part of the cache key.
BASE_CONFIGS="arch/x86/configs/x86_64_defconfig kernel/configs/kvm_guest.config"
TESTS=${DEBUG_TESTS:-"conntrack.sh nat.sh segment.sh custody.sh hardening.sh smoke.sh debug/stress.sh"}
STRESS_SECONDS=${STRESS_SECONDS:-90}

logdir=$top/build/check-debug${DEBUG_USE_KVER:+-$DEBUG_USE_KVER}
rm -rf "$logdir"
mkdir -p "$logdir"

. "$top/scripts/ktap-count.sh"

finish() {
	ktap_summary
	exit
}

# Kernel reports: a kernel log line (console "[  1.2] ..." or vm-wrap.sh's
# "kmsg: [  1.2] ..." dump) with one of these, or kmemleak's list.
REPORT_RE='BUG:|WARNING:|Oops|possible circular locking|possible recursive locking|'
REPORT_RE+='suspicious RCU usage|sleeping function called from invalid context|'
REPORT_RE+='inconsistent lock state|general protection fault|Kernel panic|'
REPORT_RE+='UBSAN:|list_add corruption|list_del corruption|refcount_t:|'
# SLUB debugging (slub_debug=...): "BUG kmalloc-64 (Tainted: ...): ..."
REPORT_RE+='BUG [^ ]+ \(|Poison overwritten|Redzone overwritten|Freepointer corrupt'
KLINE_RE='^(kmsg: )?\[ *[0-9]+\.[0-9]+\]'

# The boot VM writes this into the kernel log: the scan must see it.
INJECTED="WARNING: CPU: 0 PID: 1 at check-debug self-test, injected"

# reports LOG: print the first report of LOG (its first 40 lines) and
# succeed if there is one.  The injected line does not count.
reports()
{
	local first

	first=$(grep -a -n -E "($KLINE_RE.*($REPORT_RE))|^kmemleak: unreferenced object" "$1" |
		grep -a -v -F "$INJECTED" | head -n 1 | cut -d: -f1)
	[ -n "$first" ] || return 1
	sed -n "$first,$((first + 39))p" "$1"
}

echo "# nf_conntrack_ftp check-debug: $(date -u +%FT%TZ)"

# --- 1. Packages ------------------------------------------------------------
if [ "${SKIP_DEPS:-0}" != 1 ]; then
	if ./scripts/install-deps.sh --debug > "$logdir/deps.log" 2>&1 &&
	   ./scripts/install-deps.sh > "$logdir/deps-check.log" 2>&1; then
		result ok "dependencies installed"
	else
		result fail "dependencies installed" "see $logdir/deps*.log"
		tail -5 "$logdir"/deps*.log
	fi
fi

# check_config: every line of the fragment is in the merged .config.
check_config()
{
	local line opt val bad=0

	while IFS= read -r line; do
		case $line in
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q -E "^$opt=" "$obj/.config"; then
				echo "config: $opt wanted off, got $(grep -E "^$opt=" "$obj/.config")"
				bad=1
			fi ;;
		CONFIG_*=*)
			opt=${line%%=*}
			if ! grep -q -x -F "$line" "$obj/.config"; then
				val=$(grep -E "^(# )?$opt[= ]" "$obj/.config")
				echo "config: $line wanted, got '${val:-nothing}'"
				bad=1
			fi ;;
		esac
	done < "$FRAG"
	return $bad
}

build_kernel()
{
	local t0 t1

	mkdir -p "$CACHE" || return 1
	if [ ! -e "$src/.nf-ftp-extracted" ]; then
		echo "extracting $TARBALL into $src"
		rm -rf "$src.tmp" && mkdir -p "$src.tmp" &&
		tar -xJf "$TARBALL" -C "$src.tmp" --strip-components=1 &&
		touch "$src.tmp/.nf-ftp-extracted" &&
		rm -rf "$src" && mv "$src.tmp" "$src" || return 1
	fi
	# An interrupted build of the same key resumes (make is incremental;
	# the key covers every input of the .config).
	if [ ! -e "$kdir/configured" ]; then
		rm -rf "$kdir" && mkdir -p "$obj" || return 1
		# x86_64 defconfig + kvm_guest.config + our fragment + the
		# trimming; merge_config.sh warns about every value it could
		# not set, check_config fails if that is one of the fragment's.
		(cd "$src" && ./scripts/kconfig/merge_config.sh -O "$obj" \
			$BASE_CONFIGS "$FRAG" "$TRIM") || return 1
		check_config || return 1
		touch "$kdir/configured"
	else
		echo "resuming the build in $obj"
	fi
	t0=$(date +%s)
	nice -n 19 make -C "$src" O="$obj" -j2 bzImage modules || return 1
	t1=$(date +%s)
	echo $((t1 - t0)) > "$kdir/build-seconds"
	make -C "$src" O="$obj" INSTALL_MOD_PATH="$mods" modules_install || return 1
	make -s -C "$src" O="$obj" kernelrelease > "$kdir/kver" || return 1
	touch "$kdir/done"
}

# --- 2. The kernel: the debug kernel, cached, or DEBUG_USE_KVER ----------
if [ -n "${DEBUG_USE_KVER:-}" ]; then
	kver=$DEBUG_USE_KVER
	obj=/lib/modules/$kver/build
	bzimage=/boot/vmlinuz-$kver
	mods=/
	KERNEL_APPEND="slub_debug=FZPU kfence.sample_interval=10"
	echo "# no debug kernel: $kver with $KERNEL_APPEND"
else
	pkgver=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null)
	if [ -z "$pkgver" ] || [ ! -r "$TARBALL" ]; then
		result fail "kernel source present" "install $PKG (scripts/install-deps.sh --debug)"
		finish
	fi

	key=$( { echo "$pkgver"; echo "$BASE_CONFIGS"; cat "$FRAG" "$TRIM"; } | sha256sum | cut -c1-16)
	src=$CACHE/src-$pkgver
	kdir=$CACHE/$key
	obj=$kdir/obj
	mods=$kdir/mods
	echo "# kernel: $PKG $pkgver, config key $key, in $kdir"
	if ! mkdir -p "$CACHE"; then
		result fail "debug kernel cache $CACHE" "cannot create it (set DEBUG_CACHE)"
		finish
	fi

	(
		flock 9
		if [ -e "$kdir/done" ]; then
			echo "# reusing the cached kernel (built in $(cat "$kdir/build-seconds") s)"
			exit 0
		fi
		echo "# building the debug kernel (niced, -j2; long): log $logdir/kernel-build.log"
		build_kernel > "$logdir/kernel-build.log" 2>&1
	) 9> "$CACHE/.lock-$key" 2>/dev/null
	if [ -e "$kdir/done" ]; then
		result ok "debug kernel $(cat "$kdir/kver") built (kernel build $(cat "$kdir/build-seconds") s)"
	else
		result fail "debug kernel built" "see $logdir/kernel-build.log"
		grep -E '^config:|error|Error|Value requested' "$logdir/kernel-build.log" | head -20
		tail -5 "$logdir/kernel-build.log"
		finish
	fi
	kver=$(cat "$kdir/kver")
	bzimage=$obj/arch/x86/boot/bzImage
	# The merged config and what merge_config said, for the record.
	cp "$obj/.config" "$logdir/kernel.config"
	KERNEL_APPEND="kasan_multi_shot"
fi

# --- 3. Our modules against it -----------------------------------------------
log=$logdir/build-modules.log
if make --no-print-directory modules KVER="$kver" KDIR="$obj" W=1 > "$log" 2>&1 &&
   ! grep -q -E 'warning:|error:' "$log"; then
	result ok "build our modules for $kver W=1, no warnings"
else
	result fail "build our modules for $kver W=1, no warnings" "see $log"
	grep -E 'warning:|error:' "$log" | head -5
fi
make --no-print-directory -C selftests/tools > "$logdir/tools.log" 2>&1 ||
	result fail "selftests/tools build" "see $logdir/tools.log"
[ "${DEBUG_BUILD_ONLY:-0}" = 1 ] && finish

# --- 4. The tests, each in its own VM ---------------------------------------
# The VM sees the host's file system: our modules are in build/$kver,
# where lib.sh looks for build/$(uname -r).
BOOT_TIMEOUT=${DEBUG_BOOT_TIMEOUT:-600}

# vm LOG SCRIPT: one VM running SCRIPT under vm-wrap.sh, its output in
# LOG; returns run-vm's status, or 200 when the VM did not reach
# vm-wrap's first line within BOOT_TIMEOUT seconds (it is stopped then).
vm()
{
	local log=$1 script=$2 pid i

	# Its own session, so that the whole VM (run-vm, timeout, qemu) can
	# be stopped at once.
	VMTEST_KERNEL=$bzimage VMTEST_MODROOT=$mods \
	VMTEST_APPEND="log_buf_len=16M $KERNEL_APPEND" \
		setsid selftests/vm/run-vm.sh -k "$kver" -m 2G -t 3000 \
		-e STRESS_SECONDS="$STRESS_SECONDS" -e FTP_MAX_TIME="${FTP_MAX_TIME:-60}" \
		-e FTP_BLOCKED_MAX_TIME="${FTP_BLOCKED_MAX_TIME:-20}" \
		-- "$top/selftests/debug/vm-wrap.sh" "$script" > "$log" 2>&1 &
	pid=$!
	for ((i = 0; i < BOOT_TIMEOUT; i += 5)); do
		grep -a -q '^# vm-wrap: booted' "$log" && break
		kill -0 $pid 2> /dev/null || break
		sleep 5
	done
	if ! grep -a -q '^# vm-wrap: booted' "$log" && kill -0 $pid 2> /dev/null; then
		kill -TERM -- -$pid 2> /dev/null
		wait $pid
		return 200
	fi
	wait $pid
}

run_test()	# run_test NAME SCRIPT: one VM
{
	local name=$1 script=$2 log=$logdir/vm-$1.log rc t0

	t0=$(date +%s)
	vm "$log" "$script"
	rc=$?
	if [ $rc = 200 ]; then
		echo "# $name: no boot within $BOOT_TIMEOUT s, once more (first log: $log.hung)"
		mv "$log" "$log.hung"
		vm "$log" "$script"
		rc=$?
	fi
	echo "# $name: exit $rc, $(( $(date +%s) - t0 )) s"
	[ $rc = 200 ] && result fail "$name: VM boots" "twice no boot within $BOOT_TIMEOUT s"
	count_ktap "$name" "$log"
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && ! grep -a -q '^not ok ' "$log"; then
		result fail "$name" "VM exit $rc, see $log"
		tail -5 "$log"
	fi
	if reports "$log" > "$logdir/report-$name.txt"; then
		result fail "$name: no kernel report" "see $logdir/report-$name.txt"
		sed 's/^/#   /' "$logdir/report-$name.txt"
	else
		rm -f "$logdir/report-$name.txt"
		result ok "$name: no kernel report"
	fi
}

# The kernel alone first: a report here is not about our modules.  It
# also checks the scan: a WARNING written into the kernel log must be seen.
printf '#!/bin/sh\necho "%s" > /dev/kmsg\n' "$INJECTED" > "$logdir/inject.sh"
chmod +x "$logdir/inject.sh"
run_test boot "$logdir/inject.sh"
if grep -a -q -E "$KLINE_RE.*($REPORT_RE)" "$logdir/vm-boot.log" &&
   grep -a -E "$KLINE_RE.*($REPORT_RE)" "$logdir/vm-boot.log" | grep -q -F "$INJECTED"; then
	result ok "boot: the report scan sees an injected WARNING"
else
	result fail "boot: the report scan sees an injected WARNING"
fi
for t in $TESTS; do
	name=${t##*/}
	run_test "${name%.sh}" "$top/selftests/$t"
done
finish
exit
}
