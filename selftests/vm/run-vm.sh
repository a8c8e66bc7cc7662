#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one command inside a throw-away VM booted from a Debian kernel in
# /boot, with the host's root file system as a read-only virtio-9p root
# under a tmpfs overlay (writes stay in the guest).  The VM has no NIC.
#
# usage: run-vm.sh [-k KVER] [-t TIMEOUT] [-m MEM] [-e VAR[=VALUE]]...
#                  [-i] [-v] -- COMMAND [ARGS...]
#
#   -k KVER     kernel release to boot (default: the newest in /boot)
#   -t TIMEOUT  seconds before the VM is killed (default: 600, or 2400
#               without KVM); the exit status is then 124
#   -m MEM      guest memory, qemu syntax (default: 1G)
#   -e VAR=VAL  set VAR in the command's environment; "-e VAR" passes
#               the host's value of VAR (repeatable)
#   -i          interactive: the command reads the console (e.g. -- /bin/bash)
#   -v          verbose kernel console (loglevel=7 instead of 4)
#
# COMMAND is a path on the host; the guest sees the host's file system, so
# it runs as is, as root, from the host's current directory.  The guest
# console is streamed to stdout.  The exit status is the command's, 124 on
# timeout, 125 when the VM ended without reporting one (panic, crash, or
# a setup failure in the guest).
#
# In the guest, / is the host's root (read-only 9p) under a tmpfs overlay,
# so files can be changed anywhere, /tmp included, without touching the
# host; /run is a fresh tmpfs.  The command gets VMTEST=1 and VMTEST_KVER.
# The kernel runs with oops=panic: an oops ends the VM at once (status
# 125) with its trace on the console.
#
# Environment: VMTEST_BUILD_DIR (default: <repo>/build/vm) holds the
# cached initramfs images; QEMU (default: qemu-system-x86_64);
# VMTEST_ACCEL=kvm|tcg forces the accelerator (default: probe).
#
# A kernel that is not installed in /boot (the make check-debug kernel):
#   VMTEST_KERNEL=FILE   boot this bzImage instead of /boot/vmlinuz-KVER;
#                        -k KVER must then name its release
#   VMTEST_MODROOT=DIR   its modules are in DIR/lib/modules/KVER (make
#                        modules_install INSTALL_MOD_PATH=DIR) instead of
#                        /lib/modules/KVER; the guest sees them there too
#   VMTEST_APPEND="..."  more kernel command line parameters
#
# KVM is used when it can really boot the kernel: /dev/kvm may open yet
# fail (nested hypervisors that emulate a subset of x86), so the first
# run after each host boot does a short probe boot and caches the answer
# in the build directory.  Otherwise the VM runs under TCG.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

MARKER=VMTEST-EXIT-STATUS
MOUNT_TAG=vmtest-root

kver=
timeout=
mem=1G
interactive=0
loglevel=4
env_args=()

usage()
{
	sed -n '/^# usage:/,/^# Environment:/p' "${BASH_SOURCE[0]}" |
		sed 's/^# \{0,1\}//' | head -n -1 >&2
	exit 2
}

die()
{
	echo "run-vm: $*" >&2
	exit 125
}

while getopts "k:t:m:e:ivh" opt; do
	case $opt in
	k)	kver=$OPTARG ;;
	t)	timeout=$OPTARG ;;
	m)	mem=$OPTARG ;;
	e)	env_args+=("$OPTARG") ;;
	i)	interactive=1 ;;
	v)	loglevel=7 ;;
	*)	usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage

if [ -n "${VMTEST_KERNEL:-}" ] && [ -z "$kver" ]; then
	die "VMTEST_KERNEL needs -k KVER"
fi
if [ -z "$kver" ]; then
	kver=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' |
		sort -V | tail -n 1)
	[ -n "$kver" ] || die "no kernel in /boot"
fi
kernel=${VMTEST_KERNEL:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || die "cannot read $kernel"
modroot=${VMTEST_MODROOT:-}
if [ -n "$modroot" ]; then
	modroot=$(cd "$modroot" 2>/dev/null && pwd -P) ||
		die "no directory $VMTEST_MODROOT"
fi
moddir=$modroot/lib/modules/$kver
[ -d "$moddir" ] || die "no $moddir"

qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found"

# The initramfs depends only on the kernel and on these two scripts: cache
# it and rebuild it when any of them changed.  The lock serialises
# concurrent runs that would build the same image.
build_dir=${VMTEST_BUILD_DIR:-$repo/build/vm}
mkdir -p "$build_dir" || die "cannot create $build_dir"
initrd=$build_dir/initramfs-$kver.cpio.gz
stamp=$(cat "$here/mkinitramfs.sh" "$here/init" | sha256sum | cut -d' ' -f1)
stamp="$stamp $(stat -c %Y "$moddir/modules.dep" 2>/dev/null)"
(
	flock 9
	if [ ! -s "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
		MKINITRAMFS_MODROOT=$modroot \
			"$here/mkinitramfs.sh" "$kver" "$initrd" >&2 || exit 1
		echo "$stamp" > "$initrd.stamp"
	fi
) 9> "$build_dir/.initramfs-$kver.lock" || die "cannot build the initramfs"

virtfs="local,path=/,mount_tag=$MOUNT_TAG,security_model=none,readonly=on,multidevs=remap"

# kvm_probe: succeed if a KVM guest boots this kernel and initramfs up to
# the init's exit marker.  Without a command the init reports status 125.
kvm_probe()
{
	local key cache verdict out

	(exec 3<>/dev/kvm) 2>/dev/null || return 1
	key="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) $stamp"
	key="$key $("$qemu" --version | head -n 1)"
	cache=$build_dir/kvm-probe-$kver
	# The cache holds the key on its first line, the verdict on its second.
	verdict=
	[ "$(head -n 1 "$cache" 2>/dev/null)" = "$key" ] &&
		verdict=$(sed -n 2p "$cache")
	if [ -z "$verdict" ]; then
		out=$(timeout -k 5 30 "$qemu" -accel kvm -cpu host -smp 1 -m 256M \
			-nodefaults -no-user-config -nographic -no-reboot \
			-serial stdio -monitor none \
			-kernel "$kernel" -initrd "$initrd" \
			-append "console=ttyS0 quiet loglevel=1 panic=-1 vmtest.tag=$MOUNT_TAG" \
			-virtfs "$virtfs" < /dev/null 2>&1)
		if [[ $out == *"$MARKER: 125"* ]]; then
			verdict=yes
		else
			verdict=no
		fi
		printf '%s\n%s\n' "$key" "$verdict" > "$cache.$$" &&
			mv -f "$cache.$$" "$cache"
	fi
	[ "$verdict" = yes ]
}

case ${VMTEST_ACCEL:-probe} in
kvm)	use_kvm=1 ;;
tcg)	use_kvm=0 ;;
*)	if kvm_probe; then
		use_kvm=1
	else
		use_kvm=0
		echo "run-vm: KVM not usable here, running under TCG" >&2
	fi ;;
esac
if [ $use_kvm = 1 ]; then
	accel=(-accel kvm -cpu host)
	: "${timeout:=600}"
else
	accel=(-accel tcg -cpu max)
	: "${timeout:=2400}"
fi

# The control directory: the command as a bash script, read by the guest
# init over 9p (the guest sees the host's root), plus the console log.
ctl=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX") || die "mktemp failed"
ctl=$(cd "$ctl" && pwd -P)
trap 'rm -rf "$ctl"' EXIT
trap 'exit 130' INT TERM

{
	echo "# generated by run-vm.sh"
	echo "export VMTEST=1"
	echo "export VMTEST_KVER=$(printf %q "$kver")"
	for e in "${env_args[@]}"; do
		name=${e%%=*}
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
			die "bad variable name in -e $e"
		if [ "$name" = "$e" ]; then
			[ -n "${!name+set}" ] || continue
			value=${!name}
		else
			value=${e#*=}
		fi
		echo "export $name=$(printf %q "$value")"
	done
	echo "cd $(printf %q "$PWD") 2>/dev/null || cd /"
	printf 'exec'
	printf ' %q' "$@"
	echo
} > "$ctl/cmd"

# no_timer_check: an emulated CPU on a busy host can be too slow for the
# IO-APIC timer check, which then panics at boot.
append="console=ttyS0 quiet loglevel=$loglevel panic=-1 oops=panic no_timer_check"
append="$append printk.devkmsg=on vmtest.tag=$MOUNT_TAG vmtest.ctl=$ctl"
[ $interactive = 1 ] && append="$append vmtest.interactive=1"
[ -n "$modroot" ] && append="$append vmtest.modroot=$modroot"
[ -n "${VMTEST_APPEND:-}" ] && append="$append $VMTEST_APPEND"

qemu_args=(
	"${accel[@]}" -smp 2 -m "$mem"
	-nodefaults -no-user-config -nographic -no-reboot
	-serial stdio -monitor none
	-kernel "$kernel" -initrd "$initrd" -append "$append"
	-virtfs "$virtfs"
)

# qboot starts the kernel faster than SeaBIOS and prints nothing.
[ -r /usr/share/qemu/qboot.rom ] && qemu_args+=(-bios /usr/share/qemu/qboot.rom)

log=$ctl/console.log
if [ $interactive = 1 ]; then
	timeout -k 10 "$timeout" "$qemu" "${qemu_args[@]}" |
		tee "$log"
else
	timeout -k 10 "$timeout" "$qemu" "${qemu_args[@]}" < /dev/null |
		sed -u 's/\r$//' | tee "$log"
fi
qemu_rc=${PIPESTATUS[0]}

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "run-vm: timeout: the VM did not finish within $timeout s" >&2
	exit 124
fi

rc=$(sed -n "s/.*$MARKER: \([0-9][0-9]*\).*/\1/p" "$log" | tail -n 1)
if [ -z "$rc" ]; then
	echo "run-vm: the VM ended without reporting an exit status (qemu exit $qemu_rc)" >&2
	exit 125
fi
exit "$rc"
