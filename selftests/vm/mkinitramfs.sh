#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the tiny initramfs that run-vm.sh boots: a static busybox, our
# init script and the few kernel modules needed to mount the host root
# over virtio-9p with a tmpfs overlay on top.
#
# usage: mkinitramfs.sh KVER OUTFILE
#
# Modules that the kernel has built in are skipped; compressed modules
# (.ko.xz, .ko.zst, .ko.gz) are decompressed because busybox insmod
# cannot read them.  The load order comes from modprobe --show-depends
# and is stored in /modules/order inside the image.
#
# MKINITRAMFS_MODROOT=DIR takes the modules from DIR/lib/modules/KVER
# instead of /lib/modules/KVER (a kernel built outside the package system).
set -euo pipefail

# Modules the init needs, in the order it needs them.
ROOT_MODULES="virtio_pci 9pnet_virtio 9p overlay"

die()
{
	echo "mkinitramfs: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $0 KVER OUTFILE"
kver=$1
out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busybox=$(command -v busybox || true)

modroot=${MKINITRAMFS_MODROOT:-}
modprobe_dir=()
[ -n "$modroot" ] && modprobe_dir=(-d "$modroot")
[ -d "$modroot/lib/modules/$kver" ] || die "no $modroot/lib/modules/$kver"
[ -n "$busybox" ] || die "busybox not found (install busybox-static)"
[[ $(ldd "$busybox" 2>&1) == *"not a dynamic"* ]] ||
	die "$busybox is not static (install busybox-static)"
for tool in cpio gzip modprobe; do
	command -v "$tool" >/dev/null || die "$tool not found"
done

staging=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
trap 'rm -rf "$staging"' EXIT

mkdir -p "$staging"/{bin,dev,proc,sys,lower,rw,newroot,modules}
cp "$busybox" "$staging/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$staging/bin/$applet"
done
install -m 0755 "$here/init" "$staging/init"
# The kernel opens /dev/console before it runs /init.
mknod -m 0600 "$staging/dev/console" c 5 1 2>/dev/null || true

# copy_module SRC DEST: copy one module, decompressing when needed.
copy_module()
{
	case "$1" in
	*.ko)		cp "$1" "$2" ;;
	*.ko.xz)	xz -dc "$1" > "$2" ;;
	*.ko.zst)	zstd -qdc "$1" > "$2" ;;
	*.ko.gz)	gzip -dc "$1" > "$2" ;;
	*)		die "unknown module format: $1" ;;
	esac
}

# modprobe prints one "insmod PATH [OPTIONS]" line per module, dependencies
# first, or "builtin NAME".  Several targets share dependencies; keep the
# first occurrence of each so that the order stays valid.
n=0
declare -A seen=()
for mod in $ROOT_MODULES; do
	deps=$(modprobe "${modprobe_dir[@]}" -S "$kver" --show-depends "$mod") ||
		die "modprobe cannot resolve $mod for $kver"
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		[ -z "${seen[$path]:-}" ] || continue
		seen[$path]=1
		name=$(basename "$path")
		name=${name%%.ko*}
		n=$((n + 1))
		dest=$(printf '%02d-%s.ko' "$n" "$name")
		copy_module "$path" "$staging/modules/$dest"
		echo "$dest" >> "$staging/modules/order"
	done <<< "$deps"
done
touch "$staging/modules/order"
echo "$kver" > "$staging/modules/kver"

mkdir -p "$(dirname "$out")"
tmp_out=$(mktemp "$out.XXXXXX")
(cd "$staging" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet -o -0 -H newc -R 0:0) | gzip -6 > "$tmp_out"
chmod 0644 "$tmp_out"
mv -f "$tmp_out" "$out"
echo "mkinitramfs: $out ($n modules for $kver)"
