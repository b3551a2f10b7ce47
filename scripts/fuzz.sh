#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for N seconds (default 30) on a
# copy of its seed corpus. A crash fails the run and leaves the input in fuzz/artifacts/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
"$top/scripts/install-deps.sh"
dir="$top/build-fuzz"
CXX=clang++ cmake -S "$top" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DITKD_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$(nproc)"
mkdir -p "$top/fuzz/artifacts"
for target in request_head chunked config client_hello fastcgi_record channel_message header_edits rewrite htaccess proxy_protocol; do
  work=$(mktemp -d)
  cp -r "$top/fuzz/corpus/$target/." "$work/" 2>/dev/null || true
  echo "== fuzz_$target for ${seconds}s"
  "$dir/fuzz/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$top/fuzz/artifacts/$target-" "$work" 2>&1 | grep -E 'stat::number_of_executed_units|Done|ERROR|SUMMARY' || true
  status=${PIPESTATUS[0]}
  rm -rf "$work"
  [ "$status" = 0 ] || { echo "fuzz_$target found a crash (see fuzz/artifacts/)"; exit 1; }
done
