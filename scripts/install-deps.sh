#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything a fresh Debian 12 machine needs to build the modules
# and run the whole test suite.  Idempotent: does nothing when all the
# packages are already present.  Needs root (apt-get).
#
#   install-deps.sh           what `make check` needs
#   install-deps.sh --debug   only what `make check-debug` needs on top:
#                             the 6.12 kernel source and its build deps
set -e

# Debian 12 kernels we test against: the default (6.1), its PREEMPT_RT
# flavour (6.1 -rt, linux-image-rt-amd64), and the backported 6.12 series
# that bookworm ships as linux-image-6.12-amd64.
PKGS="
	build-essential make gcc bc kmod cpio xz-utils zstd
	linux-image-amd64 linux-headers-amd64
	linux-image-rt-amd64 linux-headers-rt-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	qemu-system-x86 busybox-static
	iproute2 iputils-ping vsftpd curl iptables nftables conntrack conntrackd python3
	clang libclang-rt-14-dev llvm
	sparse dkms dh-dkms debhelper dpkg-dev fakeroot
	libnetfilter-conntrack-dev libmnl-dev pkg-config
	procps psmisc
"

# make check-debug builds a debug kernel from Debian's kernel source.
DEBUG_PKGS="
	linux-source-6.12
	build-essential bc bison flex libssl-dev libelf-dev dwarves
	xz-utils cpio kmod python3 rsync
"
if [ "${1:-}" = --debug ]; then
	PKGS=$DEBUG_PKGS
elif [ -n "${1:-}" ]; then
	echo "usage: install-deps.sh [--debug]" >&2
	exit 2
fi

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (apt-get) to install them" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# vsftpd's postinst starts a daemon on the host; we only need the binary.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends $missing
