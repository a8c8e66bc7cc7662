# SPDX-License-Identifier: GPL-2.0
#
# Result counting shared by check.sh and check-debug.sh (sourced): every
# stage prints "ok"/"not ok" lines, and the last line is the interface,
# "N passed, N failed".

passed=0
failed=0
skipped=0

result() {	# result ok|fail|skip name [detail]
	case $1 in
	ok)	passed=$((passed + 1)); echo "ok - $2" ;;
	skip)	skipped=$((skipped + 1)); echo "ok - $2 # SKIP ${3:-}" ;;
	*)	failed=$((failed + 1)); echo "not ok - $2${3:+ # $3}" ;;
	esac
}

# Count the ok/not ok lines a stage printed into its log.
count_ktap() {	# count_ktap prefix log
	local prefix=$1 log=$2 line name
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"ok "*"# SKIP"*)
			name=${line#ok }; result skip "$prefix: ${name%% # SKIP*}" "${line##*# SKIP}" ;;
		"ok "*)
			result ok "$prefix: ${line#ok }" ;;
		"not ok "*)
			result fail "$prefix: ${line#not ok }" ;;
		esac
	done < <(grep -a -E '^(not )?ok ' "$log" | tr -d '\r')
}

# The closing lines; true if nothing failed.
ktap_summary() {
	echo "# logs in $logdir"
	[ $skipped -gt 0 ] && echo "# $skipped skipped (see the SKIP lines above)"
	echo "$passed passed, $failed failed"
	[ $failed = 0 ]
}
