#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS package, in the VM:
#
#	make deb	# on the host first
#	selftests/vm/run-vm.sh -k KVER -t 3600 -- /work/main/selftests/dkms.sh
#
# Installs build/deb/nf-conntrack-ftp-dkms_<VERSION>_all.deb with dpkg
# (the package's postinst has DKMS build it here), then:
#  - the package ships only the module sources, identical to the tree's;
#  - dkms status says installed for the running kernel, and modinfo finds
#    the modules in updates/dkms/ with our version;
#  - modprobe by name loads those, and a passive transfer through fw
#    works with the helper attached;
#  - dpkg -r removes everything: no DKMS state, no sources, no modules,
#    modinfo finds the kernel's own modules again.
# The postinst builds for the running kernel and the newest one; to halve
# the time (under TCG a build takes many minutes) the other kernels'
# headers are hidden in the VM unless DKMS_TEST_ALL_KERNELS=1 (run-vm.sh
# -e DKMS_TEST_ALL_KERNELS=1).
# Skipped when the .deb for the tree's VERSION has not been built.  The
# VM's block list of the kernel's FTP modules is removed first: this test
# loads modules by name.  Slow under TCG: give run-vm.sh a long -t.

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
MODS="nf_conntrack_ftp nf_nat_ftp"
NAME=nf-conntrack-ftp
PKG=nf-conntrack-ftp-dkms
VERSION=$(tr -d ' \t\n' < "$REPO_DIR/VERSION")
DEB=$REPO_DIR/build/deb/${PKG}_${VERSION}_all.deb
SRC=/usr/src/$NAME-$VERSION
LOG=/tmp/dkms-test.log

export DEBIAN_FRONTEND=noninteractive

cleanup()
{
	local b

	ftpd_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
	for b in /lib/modules/*/build.dkms-test-hidden; do
		[ -L "$b" ] && mv "$b" "${b%.dkms-test-hidden}"
	done
}
trap cleanup EXIT

# check_sources: the package's source directory holds only what DKMS
# needs, and it is the tree's.
check_sources()
{
	local name="package ships only the module sources, the tree's" f bad=

	if [ ! -d "$SRC" ]; then
		not_ok "$name" "no $SRC"
		return
	fi
	for f in $(cd "$SRC" && find . -type f | sed 's|^\./||' | sort); do
		case $f in
		dkms.conf) ;;
		Kbuild|VERSION|*.c|include/*.h)
			cmp -s "$SRC/$f" "$REPO_DIR/$f" ||
				bad="$bad $f(differs: rebuild with make deb)" ;;
		*)	bad="$bad $f(not needed)" ;;
		esac
	done
	for f in Kbuild VERSION dkms.conf nf_conntrack_ftp.c nf_nat_ftp.c; do
		[ -f "$SRC/$f" ] || bad="$bad $f(missing)"
	done
	grep -q "^PACKAGE_VERSION=\"$VERSION\"" "$SRC/dkms.conf" ||
		bad="$bad dkms.conf(PACKAGE_VERSION is not $VERSION)"
	if [ -z "$bad" ]; then
		ok "$name"
	else
		not_ok "$name" "$bad"
	fi
}

# check_dkms_module NAME: modinfo finds NAME in updates/dkms/, with our
# version.
check_dkms_module()
{
	local m=$1 path ver name="modinfo -n $1: updates/dkms/, version $VERSION"

	path=$(modinfo -n "$m" 2>/dev/null)
	ver=$(modinfo -F version "$m" 2>/dev/null)
	case $path in
	"$MODDIR/updates/dkms/$m.ko"|"$MODDIR/updates/dkms/$m.ko".*)
		check_eq "$name" "$ver" "$VERSION" ;;
	*)	not_ok "$name" "modinfo -n says '$path'" ;;
	esac
}

if [ ! -f "$DEB" ]; then
	ktap_plan 1
	skip "DKMS package" "no $DEB: run 'make deb' on the host first"
	ktap_finished
fi

ktap_plan 14
dmesg_mark

rm -f /etc/modprobe.d/nf-ftp-vmtest.conf
for m in $MODS; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done

# Only this kernel's headers, unless asked otherwise: DKMS skips kernels
# without them.  The VM's root is a throwaway overlay.
if [ "${DKMS_TEST_ALL_KERNELS:-0}" != 1 ]; then
	for b in /lib/modules/*/build; do
		[ "$b" = "$MODDIR/build" ] && continue
		[ -L "$b" ] && mv "$b" "$b.dkms-test-hidden"
	done
fi

# 1. Install: DKMS builds and installs the modules from the postinst.
if dpkg -i "$DEB" > "$LOG" 2>&1; then
	ok "dpkg -i $(basename "$DEB")"
else
	not_ok "dpkg -i $(basename "$DEB")"
	diag_file "$LOG" 30
	for f in /var/lib/dkms/$NAME/$VERSION/build/make.log; do
		diag_file "$f" 30
	done
fi
diag "$(grep -E '^(Building for|Building initial|Done|Error)' "$LOG")"

# 2.
check_sources

# 3. DKMS state.
status=$(dkms status -m $NAME -v "$VERSION" -k "$KVER" 2>/dev/null)
diag "dkms status: $(dkms status 2>/dev/null)"
case $status in
*": installed"*)	ok "dkms status: installed for $KVER" ;;
*)	not_ok "dkms status: installed for $KVER" "'$status'" ;;
esac

# 4, 5. modinfo finds DKMS's modules.
for m in $MODS; do
	check_dkms_module "$m"
done

# 6, 7. modprobe by name loads those.
name="modprobe nf_conntrack_ftp ports=21,2121 loads DKMS's"
if ! run_logged modprobe nf_conntrack_ftp ports=21,2121; then
	not_ok "$name" "modprobe failed"
elif [ ! -e /sys/module/nf_conntrack_ftp/parameters/min_port ]; then
	not_ok "$name" "no min_port parameter: the kernel's module"
elif ! loaded_is nf_conntrack_ftp "$(modinfo -n nf_conntrack_ftp)"; then
	not_ok "$name" "loaded module is not the installed file"
else
	ok "$name"
fi
name="modprobe nf_nat_ftp loads DKMS's"
if ! run_logged modprobe nf_nat_ftp; then
	not_ok "$name" "modprobe failed"
elif ! loaded_is nf_nat_ftp "$(modinfo -n nf_nat_ftp)"; then
	not_ok "$name" "loaded module is not the installed file"
else
	ok "$name"
fi

# 8. A transfer that needs the helper.
check_helper_transfer

# 9. Unload.
check_cmd "modules unload" unload_ours

# 10-13. Removal.
check_cmd "dpkg -r $PKG" dpkg -r $PKG
left="$(dkms status -m $NAME 2>/dev/null)$(ls -d /var/lib/dkms/$NAME "$SRC" 2>/dev/null)"
check_eq "no DKMS state or sources left" "$left" ""
left=$(ls /lib/modules/*/updates/dkms/nf_conntrack_ftp.ko* \
	/lib/modules/*/updates/dkms/nf_nat_ftp.ko* 2>/dev/null)
check_eq "no modules left in updates/dkms/ of any kernel" "$left" ""
if modinfo_is_kernels; then
	ok "after removal: modinfo finds the kernel's own modules"
else
	not_ok "after removal: modinfo finds the kernel's own modules"
fi

# 14.
check_dmesg

ktap_finished
