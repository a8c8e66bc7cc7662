#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make install" / "make uninstall" of the tree, in the VM:
#
#	selftests/vm/run-vm.sh -k KVER -- /work/main/selftests/install.sh
#
# The tree is copied to a scratch directory (the host's is read-only in
# here) and installed for the running kernel.  Then:
#  - modinfo finds our modules in updates/, and they are the files just
#    built (srcversion and build-id);
#  - modprobe by name, with parameters, loads ours, not the kernel's;
#  - a passive transfer through fw works with the helper attached by
#    iptables and a FORWARD policy that needs it;
#  - "make uninstall" removes them, modinfo and modprobe find the
#    kernel's own modules again.
# The VM's block list of the kernel's FTP modules is removed first: this
# test loads modules by name.

source "$(dirname "$(readlink -f "$0")")/lib.sh"

require_vm

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
MODS="nf_conntrack_ftp nf_nat_ftp"
work=

cleanup()
{
	ftpd_stop
	topo_cleanup
	unload_ours > /dev/null 2>&1
	[ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT

# same_file A B: are module files A and B the same build?
same_file()
{
	local sa sb ba bb

	sa=$(modinfo -F srcversion "$1" 2>/dev/null)
	sb=$(modinfo -F srcversion "$2" 2>/dev/null)
	ba=$(ko_build_id "$1")
	bb=$(ko_build_id "$2")
	if [ -z "$sa" ] || [ "$sa" != "$sb" ] || [ -z "$ba" ] || [ "$ba" != "$bb" ]; then
		diag "$1: srcversion '$sa' build-id '$ba'"
		diag "$2: srcversion '$sb' build-id '$bb'"
		return 1
	fi
}

# check_installed NAME: modinfo finds NAME in updates/ and it is the
# module we just built.
check_installed()
{
	local m=$1 path

	path=$(modinfo -n "$m" 2>/dev/null)
	case $path in
	"$MODDIR/updates/$m.ko"|"$MODDIR/updates/$m.ko".*)
		if same_file "$path" "$BUILT/$m.ko"; then
			ok "modinfo -n $m: updates/, the module just built"
		else
			not_ok "modinfo -n $m: updates/, the module just built" \
				"installed file is another build"
		fi ;;
	*)	not_ok "modinfo -n $m: updates/, the module just built" \
			"modinfo -n says '$path'" ;;
	esac
}

ktap_plan 14
dmesg_mark

rm -f /etc/modprobe.d/nf-ftp-vmtest.conf
for m in $MODS; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done

# 1. Before: the kernel's own modules.
if modinfo_is_kernels; then
	ok "before install: modinfo finds the kernel's own modules"
else
	not_ok "before install: modinfo finds the kernel's own modules"
fi

# 2. make install from a writable copy of the tree.
work=$(mktemp -d /tmp/install-test.XXXXXX)
tar -C "$REPO_DIR" --exclude=./build --exclude=./.git --exclude=./selftests \
	-cf - . | tar -C "$work" -xf -
BUILT=$work/build/$KVER
# As many compile jobs as vCPUs, as DKMS does (the compile is slow
# under TCG).
check_cmd "make install KVER=$KVER" make -j"$(nproc)" -C "$work" install KVER="$KVER"

# 3, 4. modinfo finds the installed ones, which are the files just built.
for m in $MODS; do
	check_installed "$m"
done

# 5, 6. modprobe by name, with parameters.
name="modprobe nf_conntrack_ftp ports=21,2121 loads ours"
if ! run_logged modprobe nf_conntrack_ftp ports=21,2121; then
	not_ok "$name" "modprobe failed"
elif [ ! -e /sys/module/nf_conntrack_ftp/parameters/min_port ]; then
	not_ok "$name" "no min_port parameter: the kernel's module"
elif ! loaded_is nf_conntrack_ftp "$BUILT/nf_conntrack_ftp.ko"; then
	not_ok "$name" "loaded module is another build"
else
	ok "$name"
fi
check_eq "ports parameter" \
	"$(cat /sys/module/nf_conntrack_ftp/parameters/ports 2>/dev/null)" \
	"21,2121"

# 7. nf_nat_ftp.
name="modprobe nf_nat_ftp loads ours"
if ! run_logged modprobe nf_nat_ftp; then
	not_ok "$name" "modprobe failed"
elif ! loaded_is nf_nat_ftp "$BUILT/nf_nat_ftp.ko"; then
	not_ok "$name" "loaded module is another build"
else
	ok "$name"
fi

# 8. A transfer that needs the helper.
check_helper_transfer

# 9. Unload.
check_cmd "modules unload" unload_ours

# 10-12. make uninstall: back to the kernel's own modules.
check_cmd "make uninstall KVER=$KVER" make -C "$work" uninstall KVER="$KVER"
left=$(ls "$MODDIR"/updates/nf_conntrack_ftp.ko* "$MODDIR"/updates/nf_nat_ftp.ko* 2>/dev/null)
check_eq "make uninstall removed the modules from updates/" "$left" ""
if modinfo_is_kernels; then
	ok "after uninstall: modinfo finds the kernel's own modules"
else
	not_ok "after uninstall: modinfo finds the kernel's own modules"
fi

# 13. modprobe now loads the kernel's module (depmod was rerun).
name="after uninstall: modprobe loads the kernel's nf_conntrack_ftp"
if ! run_logged modprobe nf_conntrack_ftp; then
	not_ok "$name" "modprobe failed"
elif [ -e /sys/module/nf_conntrack_ftp/parameters/min_port ]; then
	not_ok "$name" "min_port parameter: still ours"
else
	ok "$name"
fi
unload_ours > /dev/null 2>&1

# 14.
check_dmesg

ktap_finished
