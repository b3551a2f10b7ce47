#!/usr/bin/env bash
# Tenant scale of itkd: 10 000 vhosts for 2 000 owners (numeric uids 70000+, 5 vhosts
# each). Measures `itkd -t`, start time, memory with every owner idle, the first request
# to 200 cold owners, and memory after touching 1 000 owners once. Loopback only.
# Usage (root): bench/scale.sh ITKD_BINARY OUT_DIR   (called by bench/run.sh; writes OUT_DIR/scale.md)
# SCALE_GLOBAL="Directive value;Other value" adds server-level lines (for comparisons).
set -euo pipefail
itkd=$1
out=$2
owners=${SCALE_OWNERS:-2000}
per_owner=${SCALE_VHOSTS_PER_OWNER:-5}
cold=${SCALE_COLD:-200}
touch_n=${SCALE_TOUCH:-1000}
[ "$(id -u)" = 0 ] || { echo "bench/scale.sh: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/itkd-scale.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/empty" "$work/logs"
pid=
cleanup() {
  if [ -n "$pid" ]; then
    local all
    all=$(ps -e -o pid=,ppid= | awk -v root="$pid" '{ k[$2] = k[$2] " " $1 }
          END { n = 1; q[1] = root; for (i = 1; i <= n; i++) { m = split(k[q[i]], c, " ");
                for (j = 1; j <= m; j++) q[++n] = c[j] } for (i = 1; i <= n; i++) print q[i] }')
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    for q in $all; do kill -9 "$q" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# One docroot per owner (home 0750, owned by the owner), shared by its vhosts.
python3 - "$work" "$owners" "$per_owner" "$port" <<'PY'
import os, sys
work, owners, per, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = [f"Listen 127.0.0.1:{port}", "User #69999", "Group #69999", "FrontUser nobody",
         "FrontGroup nogroup", f"FrontChroot {work}/empty", f"ErrorLog {work}/logs/error.log",
         f"DocumentRoot {work}/empty", "MaxKeepAliveRequests 0",
         # SCALE_GLOBAL: extra server lines, to compare (e.g. "OwnerConfinement Off").
         *os.environ.get("SCALE_GLOBAL", "").split(";"), ""]
body = b"x" * 1024
for o in range(owners):
    uid = 70000 + o
    home = f"{work}/o{o}"
    os.makedirs(f"{home}/www")
    with open(f"{home}/www/1k.html", "wb") as f:
        f.write(body)
    for p in (home, f"{home}/www", f"{home}/www/1k.html"):
        os.chown(p, uid, uid)
    os.chmod(home, 0o750)
    for v in range(per):
        lines += [f"<VirtualHost *:{port}>", f"  ServerName s{v}.o{o}.test",
                  f"  DocumentRoot {home}/www", f"  AssignUserID #{uid} #{uid}", "</VirtualHost>"]
with open(f"{work}/itkd.conf", "w") as f:
    f.write("\n".join(lines) + "\n")
PY

now() { date +%s.%N; }
tree_kib() {  # FIELD -> sum of FIELD (Rss or Pss) over itkd's process tree; also sets nproc_tree
  local sum=0 n=0 v
  for p in $(ps -e -o pid=,ppid= | awk -v root="$pid" '{ k[$2] = k[$2] " " $1 }
             END { n = 1; q[1] = root; for (i = 1; i <= n; i++) { m = split(k[q[i]], c, " ");
                   for (j = 1; j <= m; j++) q[++n] = c[j] } for (i = 1; i <= n; i++) print q[i] }'); do
    v=$(awk -v f="$1:" '$1 == f {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
    [ -n "$v" ] && { sum=$((sum + v)); n=$((n + 1)); }
  done
  echo "$sum $n"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

t0=$(now)
"$itkd" -t -f "$work/itkd.conf" > "$work/logs/check.out" 2>&1 || { echo "itkd -t failed:"; tail -5 "$work/logs/check.out"; } >&2
t1=$(now)
check_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

t0=$(now)
"$itkd" -f "$work/itkd.conf" > "$work/logs/stderr" 2>&1 &
pid=$!
start_s="did not start within 60 s"
for _ in $(seq 600); do
  if grep -q "resuming normal operations" "$work/logs/error.log" 2>/dev/null; then
    start_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f s", b - a }'); break
  fi
  kill -0 "$pid" 2>/dev/null || { start_s="exited: $(tail -n 3 "$work/logs/stderr" | tr '\n' ' ')"; break; }
  sleep 0.1
done
sleep 1
read -r idle_rss idle_n <<<"$(tree_kib Rss)"
read -r idle_pss _ <<<"$(tree_kib Pss)"

# First request to cold owners, one at a time, then one request to each of touch_n owners.
timing=$(python3 - "$port" "$cold" "$touch_n" <<'PY'
import http.client, statistics, sys, time
port, cold, touch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lat, bad = [], 0
for o in range(touch):
    t = time.perf_counter()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/1k.html", headers={"Host": f"s0.o{o}.test"})
        r = c.getresponse(); r.read(); c.close()
        ok = r.status == 200
    except OSError:
        ok = False
    if o < cold:
        lat.append((time.perf_counter() - t) * 1000)
    bad += 0 if ok else 1
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(round(p / 100 * len(lat))) - 1)]
print(f"{q(50):.2f} {q(99):.2f} {lat[-1]:.2f} {bad}")
PY
)
read -r cold_p50 cold_p99 cold_max failed <<<"$timing"
sleep 1
read -r touched_rss touched_n <<<"$(tree_kib Rss)"
read -r touched_pss _ <<<"$(tree_kib Pss)"

{
  echo "## Tenant scale ($owners owners, $((owners * per_owner)) vhosts)"
  echo
  echo "| measure | value |"
  echo "|---|---:|"
  echo "| \`itkd -t\` time | $check_s s |"
  echo "| start until \"resuming normal operations\" | $start_s |"
  echo "| process tree with every owner idle: processes / RSS / PSS | $idle_n / $(mib "$idle_rss") MiB / $(mib "$idle_pss") MiB |"
  echo "| first request to each of $cold cold owners (sequential, new connection): p50 / p99 / max | $cold_p50 / $cold_p99 / $cold_max ms |"
  echo "| after one request to each of $touch_n owners: processes / RSS / PSS | $touched_n / $(mib "$touched_rss") MiB / $(mib "$touched_pss") MiB |"
  echo "| failed requests among the $touch_n | $failed |"
  echo
  echo "RSS counts shared pages once per process (an upper bound); PSS divides them among the"
  echo "processes that share them. Workers stay until PoolIdleTimeout (default 60 s)."
} > "$out/scale.md"
cat "$out/scale.md" >&2
