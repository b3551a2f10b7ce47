#!/usr/bin/env bash
# Installs the dependencies, builds itkd and runs the whole test suite (unit and
# end-to-end) as root. Usage: scripts/test.sh [release|sanitize] (default release).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
if [ "$(id -u)" != 0 ]; then
  echo "itkd tests start the real master, fronts and workers with numeric uids: run as root" >&2
  exit 1
fi
"$top/scripts/install-deps.sh"
dir=$("$top/scripts/build.sh" "$kind" | tail -n 1)
cd "$dir"
ctest --output-on-failure -j "$(nproc)" --timeout 300
