#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the DKMS package nf-conntrack-ftp-dkms_<VERSION>_all.deb.
#
# usage: mkdeb.sh [OUTDIR]      (default OUTDIR: <repo>/build/deb)
#
# The package is built from a clean copy of the files it needs (VERSION,
# dkms.conf, Kbuild, the .c files, include/, debian/) in a temporary
# directory, so the source tree is left untouched; only the .deb lands in
# OUTDIR.  The version comes from the top-level VERSION file; the top entry
# of debian/changelog must carry the same version.  lintian runs on the
# result when it is installed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=${1:-$repo/build/deb}
pkg=nf-conntrack-ftp-dkms

die()
{
	echo "mkdeb: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dpkg-parsechangelog dh dh_dkms; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: install dpkg-dev, debhelper and dh-dkms (make deps)"
done

cd "$repo"
version=$(tr -d ' \t\n' < VERSION)
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "bad version '$version' in VERSION"
clver=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "$clver" = "$version" ] ||
	die "debian/changelog is at $clver but VERSION says $version: add a changelog entry (dch -v $version)"

files=(VERSION dkms.conf Kbuild nf_conntrack_ftp.c nf_nat_ftp.c nf_ftp_parse.c
       include debian)
for f in "${files[@]}"; do
	[ -e "$f" ] || die "missing $f"
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/mkdeb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
src=$stage/nf-conntrack-ftp-$version
mkdir "$src"
cp -a "${files[@]}" "$src/"
# Only the headers: no editor or build leftovers in the shipped include/.
find "$src/include" -type f ! -name '*.h' -delete

(cd "$src" && dpkg-buildpackage -us -uc -b) > "$stage/build.log" 2>&1 || {
	cat "$stage/build.log" >&2
	die "dpkg-buildpackage failed"
}

deb=${pkg}_${version}_all.deb
[ -f "$stage/$deb" ] || { cat "$stage/build.log" >&2; die "$deb was not built"; }

mkdir -p "$outdir"
rm -f "$outdir/${pkg}"_*_all.deb
cp "$stage/$deb" "$outdir/"
echo "mkdeb: built $outdir/$deb"

if command -v lintian >/dev/null; then
	lintian --no-tag-display-limit "$outdir/$deb" || true
fi
