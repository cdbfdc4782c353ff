#!/bin/sh
# Write last week's (Monday to Sunday) alliance summary as Markdown to a dated file in DIR.
# Cron-ready: needs only PATH and ALLIANCE_DB. Exits 3 when an alert was raised that week
# or is still open at its end (an unrepaired rupture of weeks ago), so cron (which mails
# non-empty output and can act on the exit code) can tell you.
# DATE (default today) makes the file a run on that day would have written, e.g. for a
# Monday the machine was off: `weekly_summary.sh DIR 2026-11-30`.
#
#   weekly_summary.sh DIR [DATE]
set -eu
dir="${1:?usage: weekly_summary.sh DIR [DATE]}"
day="${2:-$(date +%Y-%m-%d)}"
umask 077
mkdir -p "$dir"
file="$dir/alliance-summary-$day.md"
status=0
alliance summary --last-week --as-of "$day" --format markdown --output "$file" --force \
    --fail-on-flags || status=$?
if [ "$status" -eq 3 ]; then
    echo "alliance: alerts raised last week or still open, see $file"
fi
exit "$status"
