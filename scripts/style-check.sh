#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's coding style, as far as it can be checked without
# checkpatch.pl (which Debian's headers packages do not ship): SPDX
# headers, tab indentation, at most 100 columns (a line may run over only
# inside a user-visible string, which must not be split), no trailing
# whitespace, and kernel-doc that scripts/kernel-doc accepts on everything
# the two modules share.  Prints one finding per line; exit 1 on any.
set -u
cd "$(dirname "$0")/.." || exit 2

kernel_doc=$(ls -d /usr/src/linux-headers-*-common/scripts/kernel-doc 2>/dev/null |
	     sort -V | tail -n 1)
sources="nf_conntrack_ftp.c nf_nat_ftp.c nf_ftp_parse.c include/*.h"
bad=0

for f in $sources; do
	case $f in
	*.c) spdx='^// SPDX-License-Identifier: GPL-2.0$' ;;
	*.h) spdx='^/\* SPDX-License-Identifier: GPL-2.0 \*/$' ;;
	esac
	if ! head -n 1 "$f" | grep -q -E "$spdx"; then
		echo "$f:1: missing or wrong SPDX line"
		bad=1
	fi
	if ! awk -v f="$f" '
		{ line = $0; gsub(/\t/, "        ", line) }
		length(line) > 100 && $0 !~ /"[^"]*$/ && $0 !~ /"/ {
			printf "%s:%d: %d columns\n", f, NR, length(line); bad = 1
		}
		/[ \t]+$/ {
			printf "%s:%d: trailing whitespace\n", f, NR; bad = 1
		}
		/^\t* {8}/ && $0 !~ /^\t* +\*/ {
			printf "%s:%d: indent with spaces\n", f, NR; bad = 1
		}
		/^ +\t/ {
			printf "%s:%d: space before tab\n", f, NR; bad = 1
		}
		END { exit bad }' "$f"; then
		bad=1
	fi
done

if [ -z "$kernel_doc" ]; then
	echo "scripts/kernel-doc not found (install a linux-headers package)"
	bad=1
else
	out=$(perl "$kernel_doc" -none -Wall include/nf_ftp.h \
		include/nf_ftp_parse.h nf_ftp_parse.c 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		bad=1
	fi
fi
exit $bad
