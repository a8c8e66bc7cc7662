#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole suite: dependencies, a W=1 build for every installed test
# kernel, the parser's unit tests, a fuzz smoke run, and the VM selftests
# on every test kernel.  Every stage prints "ok"/"not ok" lines; the last
# line is "N passed, N failed".
#
# Environment:
#   KVERS="6.1.0-56-amd64 ..."   kernels to test (default: all with headers)
#   TESTS="nat.sh ..."           VM selftests to run (default: all)
#   FUZZ_SECONDS=N               fuzz run length (default 30)
#   SKIP_DEPS=1                  do not check/install packages
#   VM=0                         skip the VM selftests
#   VM_JOBS=N                    VMs at a time (default 2)
#   PACKAGING_KVERS="KVER ..."   kernels for dkms.sh, install.sh, demo.sh
#                                (default: the first that is not -rt; all)
#   HA_KVERS=all                 ha.sh on the PREEMPT_RT kernel too
#   VM_TIMEOUT=S                 run-vm.sh -t for each VM test (default: run-vm's)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

logdir=$top/build/check
rm -rf "$logdir"
mkdir -p "$logdir"

. "$top/scripts/ktap-count.sh"

echo "# nf_conntrack_ftp check: $(date -u +%FT%TZ)"

# 1. Packages.
if [ "${SKIP_DEPS:-0}" != 1 ]; then
	if ./scripts/install-deps.sh > "$logdir/deps.log" 2>&1; then
		result ok "dependencies installed"
	else
		result fail "dependencies installed" "see $logdir/deps.log"
		tail -5 "$logdir/deps.log"
	fi
fi

# Kernels with headers installed (the same list the Makefile builds).
kvers=${KVERS:-$(for d in /lib/modules/*/build; do
	[ -e "$d/Makefile" ] && basename "$(dirname "$d")"
done | sort -V)}
if [ -z "$kvers" ]; then
	result fail "kernel headers present" "no /lib/modules/*/build"
fi

# 2. Builds: every kernel, W=1, not a single warning.
for k in $kvers; do
	log=$logdir/build-$k.log
	if make --no-print-directory modules KVER="$k" W=1 > "$log" 2>&1 &&
	   ! grep -q -E 'warning:|error:' "$log"; then
		result ok "build $k W=1, no warnings"
	else
		result fail "build $k W=1, no warnings" "see $log"
		grep -E 'warning:|error:' "$log" | head -5
	fi
done

# 3. Static checks: sparse on every kernel.
if command -v sparse > /dev/null; then
	for k in $kvers; do
		log=$logdir/sparse-$k.log
		if make --no-print-directory modules KVER="$k" C=2 > "$log" 2>&1 &&
		   ! grep -E '^/.*(nf_conntrack_ftp|nf_nat_ftp|nf_ftp_parse|/include/nf_ftp|compat)[^ ]*: (warning|error):' "$log" |
		     grep -q .; then
			result ok "sparse $k clean"
		else
			result fail "sparse $k clean" "see $log"
			grep -E '(warning|error):' "$log" | head -5
		fi
	done
fi

# No global lock or buffer on the packet path; the kernel's own helper,
# which has both, must fail the same check.
for k in $kvers; do
	if scripts/global-state-check.sh build/"$k"/nf_conntrack_ftp.ko &&
	   scripts/global-state-check.sh build/"$k"/nf_nat_ftp.ko; then
		result ok "$k: no global lock or buffer in our modules"
	else
		result fail "$k: no global lock or buffer in our modules"
	fi
	kmod=$(ls /lib/modules/"$k"/kernel/net/netfilter/nf_conntrack_ftp.ko* 2>/dev/null)
	if [ -z "$kmod" ]; then
		result skip "$k: the check catches the kernel's global lock" "no kernel module"
	elif ! scripts/global-state-check.sh "$kmod" > /dev/null; then
		result ok "$k: the check catches the kernel's global lock"
	else
		result fail "$k: the check catches the kernel's global lock"
	fi
done

# The kernel's coding style and kernel-doc.
log=$logdir/style.log
if ./scripts/style-check.sh > "$log" 2>&1; then
	result ok "coding style and kernel-doc"
else
	result fail "coding style and kernel-doc" "see $log"
	head -5 "$log"
fi

# 4. Unit tests of the parser (ASan + UBSan).
log=$logdir/unit.log
make --no-print-directory -C selftests/unit > "$log" 2>&1
rc=$?
count_ktap unit "$log"
if [ $rc != 0 ] || ! tail -1 "$log" | grep -q -E '^[0-9]+ passed, 0 failed$'; then
	result fail "unit suite" "exit $rc: $(tail -1 "$log")"
fi

# 5. Fuzz smoke.
log=$logdir/fuzz.log
if make --no-print-directory -C selftests/fuzz run \
	FUZZ_SECONDS="${FUZZ_SECONDS:-30}" > "$log" 2>&1; then
	result ok "fuzz smoke: $(grep -a '^fuzz: ' "$log" | tail -1 | sed 's/^fuzz: //')"
else
	result fail "fuzz smoke" "see $log"
	tail -5 "$log"
fi

# 6. VM selftests: every (kernel, test) pair, in a pool of VM_JOBS VMs
# (default 2: under TCG a VM keeps about one host core busy).  Whenever a
# VM ends the next pair starts, the longest first, so that no long test
# is left running alone at the end.  The lengths are the last run's
# (build/vm/durations), else the rough TCG figures of vm_secs below.
# Results are counted afterwards, in a fixed order (kernel, test).
tests=${TESTS:-$(cd selftests && ls -1 *.sh | grep -v -x -e lib.sh -e lib_seg.sh)}
make --no-print-directory -C selftests/tools > "$logdir/tools.log" 2>&1 ||
	result fail "selftests/tools build" "see $logdir/tools.log"
# The DKMS package of this tree, which selftests/dkms.sh installs.
if make --no-print-directory deb > "$logdir/deb.log" 2>&1; then
	result ok "make deb"
else
	result fail "make deb" "see $logdir/deb.log"
fi
vm_jobs=${VM_JOBS:-2}
durations=$top/build/vm/durations	# lines "KVER TEST SECONDS"
# The packaging tests (make install, the DKMS package) test what the
# tree installs, not how a kernel runs it, and spend most of their time in
# depmod over every module of the kernel: they run on one kernel, Debian
# 12's default (the first one that is not PREEMPT_RT), unless
# PACKAGING_KVERS names others ("all": every kernel).  So does the
# narrated demo (make demo): smoke.sh, nat.sh and hardening.sh make its
# checks on every kernel, but for the display of expectation events.  Every kernel still gets
# its W=1 build above and every other VM test.
packaging_tests="dkms.sh install.sh demo.sh"
packaging_kvers=${PACKAGING_KVERS:-$(for k in $kvers; do
	case $k in *-rt-*) ;; *) echo "$k"; break ;; esac
done)}

# The HA test (two firewalls, conntrackd, one failover after another) is
# the longest of all under load; the PREEMPT_RT kernel shares its
# conntrack and ctnetlink code with 6.1, so it runs on the other kernels
# only, unless HA_KVERS=all.
ha_tests="ha.sh"

vm_wanted()	# vm_wanted KVER TEST: is this pair run?
{
	case " $ha_tests " in
	*" $2 "*)
		[ "${HA_KVERS:-}" = all ] && return 0
		case $1 in *-rt-*) return 1 ;; esac
		return 0 ;;
	esac
	case " $packaging_tests " in
	*" $2 "*)
		[ "$packaging_kvers" = all ] && return 0
		case " $packaging_kvers " in *" $1 "*) return 0 ;; esac
		return 1 ;;
	esac
	return 0
}

vm_secs()	# vm_secs KVER TEST: expected seconds, for the order only
{
	local s

	s=$(awk -v k="$1" -v t="$2" '$1 == k && $2 == t { s = $3 } END { print s }' \
		"$durations" 2>/dev/null)
	if [ -z "$s" ]; then
		# Seconds under TCG, two VMs at a time (December 2026).
		case $2 in
		dkms.sh|install.sh)	s=650 ;;
		segment.sh)	s=420 ;;
		ha.sh)		s=320 ;;
		custody.sh)	s=330 ;;
		conntrack.sh)	s=280 ;;
		nat.sh|hardening.sh)	s=220 ;;
		differential.sh)	s=150 ;;
		*)		s=120 ;;
		esac
	fi
	echo "$s"
}

run_vm_test()	# run_vm_test KVER TEST
{
	local k=$1 t=$2 rc start

	start=$(date +%s)
	selftests/vm/run-vm.sh -k "$k" ${VM_TIMEOUT:+-t "$VM_TIMEOUT"} \
		-- "$top/selftests/$t" > "$logdir/vm-$k-${t%.sh}.log" 2>&1
	rc=$?
	echo $rc > "$logdir/vm-$k-${t%.sh}.rc"
	echo "$k $t $(($(date +%s) - start))" > "$logdir/vm-$k-${t%.sh}.secs"
	echo "# $k ${t%.sh}: exit $rc ($(date -u +%T), $(($(date +%s) - start)) s)"
}

[ "${VM:-1}" = 0 ] && kvers_vm= || kvers_vm=$kvers
queue=()
for k in $kvers_vm; do
	if [ ! -e "/boot/vmlinuz-$k" ]; then
		result skip "vm $k" "no /boot/vmlinuz-$k"
		continue
	fi
	for t in $tests; do
		vm_wanted "$k" "$t" && queue+=("$(vm_secs "$k" "$t") $k $t")
	done
done
if [ ${#queue[@]} -gt 0 ]; then
	mapfile -t queue < <(printf '%s\n' "${queue[@]}" | sort -s -k1,1nr)
	vm_start=$(date +%s)
	running=0
	for job in "${queue[@]}"; do
		read -r _ k t <<< "$job"
		if [ $running -ge "$vm_jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_vm_test "$k" "$t" &
		running=$((running + 1))
	done
	wait
	echo "# VM stage: ${#queue[@]} VM tests, $vm_jobs at a time, $(($(date +%s) - vm_start)) s"
	# Remember this run's lengths for the next one's order.
	mkdir -p "$(dirname "$durations")"
	cat "$durations" "$logdir"/vm-*.secs 2>/dev/null |
		awk '{ s[$1 " " $2] = $3 } END { for (p in s) print p, s[p] }' |
		sort > "$durations.$$" && mv -f "$durations.$$" "$durations"
fi
for k in $kvers_vm; do
	[ -e "/boot/vmlinuz-$k" ] || continue
	for t in $tests; do
		if ! vm_wanted "$k" "$t"; then
			case " $ha_tests " in
			*" $t "*) result skip "$k ${t%.sh}" "not on PREEMPT_RT (HA_KVERS=all)" ;;
			*) result skip "$k ${t%.sh}" "one kernel: tested on $packaging_kvers" ;;
			esac
			continue
		fi
		log=$logdir/vm-$k-${t%.sh}.log
		rc=$(cat "$logdir/vm-$k-${t%.sh}.rc" 2>/dev/null || echo 125)
		count_ktap "$k ${t%.sh}" "$log"
		# A test that ends badly without saying what failed still fails;
		# exit 4 is kselftest's "skipped".
		if [ "$rc" != 0 ] && [ "$rc" != 4 ] && ! grep -a -q '^not ok ' "$log"; then
			result fail "$k ${t%.sh}" "VM exit $rc, see $log"
			tail -5 "$log"
		fi
	done
done

# The last line is the interface: "N passed, N failed".
ktap_summary
