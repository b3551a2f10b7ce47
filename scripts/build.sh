#!/usr/bin/env bash
# Builds itkd. Usage: scripts/build.sh [release|sanitize|debug] (default release).
# Prints the build directory on the last line.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
case "$kind" in
  release)  dir="$top/build";          flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  sanitize) dir="$top/build-sanitize"; flags=(-DCMAKE_BUILD_TYPE=Debug -DITKD_SANITIZE=ON) ;;
  debug)    dir="$top/build-debug";    flags=(-DCMAKE_BUILD_TYPE=Debug) ;;
  *) echo "usage: $0 [release|sanitize|debug]" >&2; exit 2 ;;
esac
cmake -S "$top" -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
