#!/usr/bin/env bash
# Runs pytest with the system clock faked (libfaketime) to 23:55 and 00:05 IST around the next
# 31 March / 1 April: the end of a financial year and of a day, where Asia/Kolkata and UTC disagree
# on the date. The clock starts at that instant and runs on, so the run also crosses midnight IST.
# Usage: tests/clock/run.sh [pytest args...]   (installs Debian's faketime when missing, as root)
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -e "$lib" ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq faketime) >/dev/null
  else
    echo "libfaketime is missing: apt-get install faketime" >&2
    exit 1
  fi
fi
year=$(date -u +%Y)
[ "$(date -u +%m)" -ge 4 ] && year=$((year + 1))
for instant in "$year-03-31 18:25:00" "$year-03-31 18:35:00"; do  # 23:55 and 00:05 IST
  echo "== clock faked to $instant UTC"
  TZ=UTC FAKETIME="@$instant" LD_PRELOAD="$lib" .venv/bin/python -m pytest -p no:cacheprovider "$@"
done
