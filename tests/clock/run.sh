#!/usr/bin/env bash
# Runs pytest with the system clock faked (libfaketime) around the next 31 March / 1 April, the end
# of a financial year and of a day, where Asia/Kolkata and UTC disagree on the date: from 23:55 IST,
# from 23:59 IST (the clock runs on, so that run crosses midnight into the new year a minute in,
# while tests are running) and from 00:05 IST.
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
for instant in "$year-03-31 18:25:00" "$year-03-31 18:29:00" "$year-03-31 18:35:00"; do  # 23:55, 23:59, 00:05 IST
  echo "== clock faked to $instant UTC"
  TZ=UTC FAKETIME="@$instant" LD_PRELOAD="$lib" .venv/bin/python -m pytest -p no:cacheprovider "$@"
done
