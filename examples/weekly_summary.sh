#!/bin/sh
# Write this week's alliance summary as Markdown to a dated file in DIR.
# Cron-ready: needs only PATH and ALLIANCE_DB; exits 3 when the week raised an alert,
# so cron (which mails non-empty output and can act on the exit code) can tell you.
#
#   weekly_summary.sh DIR
set -eu
dir="${1:?usage: weekly_summary.sh DIR}"
umask 077
mkdir -p "$dir"
file="$dir/alliance-summary-$(date +%Y-%m-%d).md"
status=0
alliance summary --days 7 --format markdown --output "$file" --force --fail-on-flags || status=$?
if [ "$status" -eq 3 ]; then
    echo "alliance: alerts this week, see $file"
fi
exit "$status"
