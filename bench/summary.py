#!/usr/bin/env python3
"""Turns the raw wrk outputs listed in results.tsv (written by bench/run.sh) into summary.md.

Usage: summary.py RESULT_DIR SECS RUNS CORES
"""
import os
import re
import statistics
import sys
import time

out, secs, runs, cores = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

WORKLOADS = [
    ("static-1k-ka", "static 1 KiB keep-alive"),
    ("static-1k-close", "static 1 KiB `Connection: close`"),
    ("static-100k-ka", "static 100 KiB keep-alive"),
    ("mix-static-1k-ka", "static 1 KiB, owners alternating, keep-alive"),
    ("php-ka", "hello.php keep-alive"),
    ("php-close", "hello.php `Connection: close`"),
    ("mix-php-ka", "hello.php, owners alternating, keep-alive"),
]
SERVERS = [
    ("itkd", "itkd"), ("itkd-fcgid", "itkd php-cgi (FcgidWrapper)"),
    ("itkd-fpm", "itkd php-fpm (proxy:unix)"), ("h2o", "h2o"), ("nginx", "nginx"),
    ("nginx-fpm", "nginx + php-fpm"), ("apache-prefork", "Apache prefork + mod_php"),
    ("apache-itk", "Apache mpm-itk + mod_php"), ("floor", "floor: any host, no isolation"),
    ("floor-switch", "floor: itkd's shape"), ("floor-peer", "floor: workers pass to workers"),
    ("floor-fpm", "floor: php-fpm's client"),
]
# Which itkd variant faces which peer, per workload kind.
ITKD_FOR = {"static": ["itkd"], "php": ["itkd-fcgid", "itkd-fpm"]}
PEERS_FOR = {"static": ["h2o", "nginx", "apache-prefork", "apache-itk"],
             "php": ["nginx-fpm", "apache-prefork", "apache-itk"]}
SINGLE_FOR_MIX = {"mix-static-1k-ka": "static-1k-ka", "mix-php-ka": "php-ka"}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def parse(path):
    try:
        text = open(path).read()
    except OSError:
        return None
    r = {"rps": 0.0, "p50": None, "p99": None, "non2xx": 0, "errors": 0, "requests": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m:
            r[key] = ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"(\d+) requests in", text)
    if m:
        r["requests"] = int(m.group(1))
    return r


results = {}
for line in open(os.path.join(out, "results.tsv")):
    wl, srv, raw, pss = line.rstrip("\n").split("\t")
    rs = [x for x in (parse(f"{raw}.run{i}") for i in range(1, runs + 1)) if x]
    if not rs:
        continue
    rs.sort(key=lambda x: x["rps"])
    med = rs[(len(rs) - 1) // 2]
    results[(wl, srv)] = {
        "med": statistics.median(x["rps"] for x in rs), "min": rs[0]["rps"], "max": rs[-1]["rps"],
        "p50": med["p50"], "p99": med["p99"], "non2xx": sum(x["non2xx"] for x in rs),
        "errors": sum(x["errors"] for x in rs), "requests": sum(x["requests"] for x in rs),
        "pss": int(pss), "raw": os.path.basename(raw)}


def kind(wl):
    return "php" if "php" in wl else "static"


def fmt_rps(r):
    if not r:
        return "—"
    if runs == 1:
        return f"{r['med']:,.0f}".replace(",", " ")
    return f"{r['med']:,.0f} ({r['min']:,.0f}–{r['max']:,.0f})".replace(",", " ")


def fmt_ms(v):
    return "—" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.0f}")


p = print
p(f"# itkd side by side ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
p()
p(f"wrk `-t1 -c32 -d{secs}s --latency` after a 2 s warm-up, median of {runs} run(s)"
  + (" (min–max)" if runs > 1 else "") + ", 127.0.0.1. **Every server shares the machine's "
  f"{cores} cores with wrk** (and with whatever else runs here): absolute numbers are context, "
  "compare the ratios of one run. All servers run for the whole benchmark and the runs of "
  "a workload take turns (run 1 of each server, then run 2 of each, ...), one wrk at a time, "
  "so a drift in the machine's load hits all servers of a row alike.")
p()
p("## Ratios itkd / peer (req/s, median)")
p()
peers_all = ["h2o", "nginx / nginx + php-fpm", "Apache prefork + mod_php", "Apache mpm-itk + mod_php"]
p("| workload | itkd variant | " + " | ".join(peers_all) + " |")
p("|---|---|" + "---:|" * len(peers_all))
for wl, title in WORKLOADS:
    for iv in ITKD_FOR[kind(wl)]:
        mine = results.get((wl, iv))
        cells = []
        for peer in (["h2o", "nginx", "apache-prefork", "apache-itk"] if kind(wl) == "static"
                     else [None, "nginx-fpm", "apache-prefork", "apache-itk"]):
            theirs = results.get((wl, peer)) if peer else None
            if mine and theirs and theirs["med"] > 0:
                cells.append(f"{mine['med'] / theirs['med']:.2f}×")
            else:
                cells.append("—")
        p(f"| {title} | {dict(SERVERS)[iv]} | " + " | ".join(cells) + " |")
p()
if any(k[1].startswith("floor") for k in results):
    p("## The floor: what this machine allows")
    p()
    p("`bench/floor/floor_server.cc` answers every request with the same 1 KiB from memory "
      "and does nothing else (no file, no parser, no log). *floor* answers every host from one "
      "process per core: no isolation. *floor-switch* has itkd's shape and nothing more: fronts "
      "pass each socket (SCM_RIGHTS, batched per loop turn) to a worker of the owner its Host "
      "names, and a worker passes it back through a front when the next request names the "
      "other owner. *floor-peer* is floor-switch with the shortcut itkd's invariant 4 forbids: "
      "a worker passes the socket straight to a worker of the other owner. A ratio a floor "
      "can't reach, no server of that shape can reach on this machine.")
    p()
    p("| workload | floor | floor-switch | floor-peer | itkd | itkd / floor-switch |")
    p("|---|---:|---:|---:|---:|---:|")
    for wl in ("static-1k-ka", "static-1k-close", "mix-static-1k-ka"):
        f, fs, fp, me = (results.get((wl, x)) for x in ("floor", "floor-switch", "floor-peer", "itkd"))
        ratio = f"{me['med'] / fs['med']:.2f}" if me and fs and fs["med"] > 0 else "—"
        p(f"| {dict(WORKLOADS)[wl]} | {fmt_rps(f)} | {fmt_rps(fs)} | {fmt_rps(fp)} | {fmt_rps(me)} | {ratio} |")
    fpm_rows = [wl for wl in ("php-ka", "php-close") if results.get((wl, "floor-fpm"))]
    if fpm_rows:
        p()
        p("*floor-fpm* is the least a server in front of php-fpm must do: accept, one FastCGI "
          "request to alice's pool over a new connection (as nginx and Apache send it by "
          "default), the answer back.")
        p()
        p("| workload | floor-fpm | nginx + php-fpm | itkd php-fpm | nginx / floor | itkd / floor |")
        p("|---|---:|---:|---:|---:|---:|")
        for wl in fpm_rows:
            f, ng, me = (results.get((wl, x)) for x in ("floor-fpm", "nginx-fpm", "itkd-fpm"))
            cells = [f"{x['med'] / f['med']:.2f}" if x and f["med"] > 0 else "—" for x in (ng, me)]
            p(f"| {dict(WORKLOADS)[wl]} | {fmt_rps(f)} | {fmt_rps(ng)} | {fmt_rps(me)} | "
              + " | ".join(cells) + " |")
    p()

    def ratio_of(a, b):
        return a["med"] / b["med"] if a and b and b["med"] > 0 else None
    close_floor = ratio_of(results.get(("static-1k-close", "floor")), results.get(("static-1k-close", "apache-itk")))
    if close_floor is not None:
        p(f"- `Connection: close`: the floor does {close_floor:.1f}× Apache mpm-itk's connections "
          "per second here (itkd's target: ≥ 100×).")
    for srv, what in (("floor", "with no isolation"), ("floor-switch", "in itkd's shape"),
                      ("floor-peer", "workers passing to workers")):
        r = ratio_of(results.get(("mix-static-1k-ka", srv)), results.get(("static-1k-ka", srv)))
        if r is not None:
            p(f"- Owners alternating, {what}: {r:.2f} of the single-owner figure (itkd's target: ≥ 0.8).")
    p()
p("## Requests per second")
p()
present = [s for s in SERVERS if any(k[1] == s[0] for k in results)]
p("| workload | " + " | ".join(t for _, t in present) + " |")
p("|---|" + "---:|" * len(present))
for wl, title in WORKLOADS:
    p(f"| {title} | " + " | ".join(fmt_rps(results.get((wl, s))) for s, _ in present) + " |")
p()
p("## Latency p50 / p99 (ms, run with the median req/s)")
p()
p("| workload | " + " | ".join(t for _, t in present) + " |")
p("|---|" + "---:|" * len(present))
for wl, title in WORKLOADS:
    cells = []
    for s, _ in present:
        r = results.get((wl, s))
        cells.append("—" if not r else f"{fmt_ms(r['p50'])} / {fmt_ms(r['p99'])}")
    p(f"| {title} | " + " | ".join(cells) + " |")
p()
p("## Owner switching on keep-alive connections")
p()
p("Each request wrk's thread sends names the other owner than its previous one (alice.test, "
  "bob.test), over 32 keep-alive connections. Failed = non-2xx answers + socket errors "
  "(connect/read/write/timeout) over all runs; mix/single = the mix's req/s over the "
  "single-owner keep-alive row of the same server.")
p()
p("| workload | server | req/s | mix / single | requests | non-2xx | socket errors |")
p("|---|---|---:|---:|---:|---:|---:|")
for wl, single in SINGLE_FOR_MIX.items():
    for s, t in present:
        r = results.get((wl, s))
        if not r:
            continue
        base = results.get((single, s))
        ratio = f"{r['med'] / base['med']:.2f}" if base and base["med"] > 0 else "—"
        p(f"| {dict(WORKLOADS)[wl]} | {t} | {fmt_rps(r)} | {ratio} | {r['requests']} | "
          f"{r['non2xx']} | {r['errors']} |")
p()
p("## Memory: PSS of each server's process tree (MiB)")
p()
p("From /proc/PID/smaps_rollup, summed over the server's pid and all its descendants "
  "(itkd: master, fronts, workers, php-cgi; Apache: parent and children). php-fpm's master "
  "and pools are counted with nginx and with itkd's php-fpm rows. 'idle' is after one "
  "request per owner; the others right after the last run of a workload. 'one-static-worker' "
  "is a single itkd worker after the static rows (the largest), not a tree.")
p()
mem = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "memory.tsv"))]
p("| server | state | PSS MiB |")
p("|---|---|---:|")
for srv, state, kib in mem:
    p(f"| {srv} | {state} | {int(kib) / 1024:.1f} |")
p()
p("| workload | " + " | ".join(t for _, t in present) + " |")
p("|---|" + "---:|" * len(present))
for wl, title in WORKLOADS:
    cells = []
    for s, _ in present:
        r = results.get((wl, s))
        cells.append("—" if not r else f"{r['pss'] / 1024:.1f}")
    p(f"| PSS after {title} | " + " | ".join(cells) + " |")
p()
scale = os.path.join(out, "scale.md")
if os.path.exists(scale):
    p(open(scale).read().rstrip())
    p()
notes = [l.strip() for l in open(os.path.join(out, "notes.txt")) if l.strip()] \
    if os.path.exists(os.path.join(out, "notes.txt")) else []
if notes:
    p("## Notes")
    p()
    for n in notes:
        p(f"- {n}")
    p()
p("Raw wrk outputs: `raw/<server>.<workload>.run<N>` (and `.warmup`).")
