#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: global-state-check.sh MODULE.ko[.xz]
#
# No global lock and no global buffer on the packet path: every object of
# static storage in the module must be one of the read-mostly ones below
# (configuration, registration), and none may be a lock or a buffer,
# except the array of connection locks, which connections hash into (one
# lock per connection in effect, like the core's nf_conntrack_locks).  A
# new global fails this check until it is added here with its reason.
# Run against the kernel's own nf_conntrack_ftp.ko it fails (nf_ftp_lock,
# one spinlock every packet of every FTP connection takes; before 6.0 also
# ftp_buffer): check.sh uses that to show the check can fail.
set -u
ko=$1

allowed='
loose		module parameter, read with READ_ONCE
pairing		module parameter, read with READ_ONCE
min_port	module parameter, read with READ_ONCE
ports		module parameter, used at load time only
ports_c		module parameter, used at load time only
ftp_helpers	helper registration, written at load time only
ftp_nr_helpers	helper registration, written at load time only
nf_ftp_net_id	per-namespace registration
nf_ftp_net_ops	per-namespace registration
nf_ftp_nat_hook	RCU pointer, written when nf_nat_ftp loads and unloads
max_memory_kb	module parameter, read with READ_ONCE
fault_alloc	module parameter (test only), read with READ_ONCE
nat_helper_ftp	NAT helper registration (nf_nat_ftp)
nf_nat_ftp_ops	NAT operations, constant (nf_nat_ftp)
keep_length	module parameter (nf_nat_ftp), read with READ_ONCE
'

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
case $ko in
*.xz)	xz -dc "$ko" > "$tmp" ;;
*.zst)	zstd -qdc "$ko" > "$tmp" ;;
*)	cp "$ko" "$tmp" ;;
esac

bad=0
while read -r _ size type name; do
	case $type in
	[bBdD]) ;;
	*) continue ;;
	esac
	case $name in
	__this_module|__UNIQUE_ID_*|__param_*|__key.*|_note_*) continue ;;
	esac
	# 256 connection locks, hashed by conntrack: no two connections
	# need share one, and no packet takes more than its own.
	[ "$name" = ftp_conn_locks ] && continue
	case $name in
	*lock*|*buffer*|*buf)
		echo "$ko: global $name (0x$size bytes) looks like a lock or buffer"
		bad=1
		continue ;;
	esac
	if ! printf '%s\n' "$allowed" | grep -q -E "^$name[[:space:]]"; then
		echo "$ko: global $name (0x$size bytes) is not known to be off the packet path"
		bad=1
	fi
done < <(nm -S "$tmp" | awk 'NF == 4')
exit $bad
