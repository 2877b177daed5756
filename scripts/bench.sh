#!/usr/bin/env bash
# Runs every benchmark in the bench build and prints the figures the issues
# ask for, as absolute rates and as ratios to the baselines of the same run.
set -euo pipefail
build=${1:-build-bench}
out="$build/bench-results"
mkdir -p "$out"
for b in "$build"/bench/*_benchmark; do
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_min_time=0.5 --benchmark_format=console \
       --benchmark_out="$out/$name.json" --benchmark_out_format=json
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, glob, os
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    data = json.load(open(path))
    rates = {b["name"]: b.get("items_per_second", 0) for b in data["benchmarks"]}
    cached = rates.get("BM_EffectivePolicy_Cached")
    uncached = rates.get("BM_EffectivePolicy_Uncached")
    getv = rates.get("BM_Baseline_StoreGetValue")
    if cached and uncached:
        print(f"effective policy: cached {cached/1e6:.2f} M/s (goal >= 1 M/s:"
              f" {'met' if cached >= 1e6 else 'NOT met'}), from the store"
              f" {uncached/1e3:.1f} k/s (goal >= 50 k/s:"
              f" {'met' if uncached >= 5e4 else 'NOT met'})")
        if getv:
            print(f"  uncached = {getv/uncached:.1f} x the cost of one value read"
                  f" (baseline {getv/1e3:.0f} k reads/s); cached is"
                  f" {cached/uncached:.0f} x faster than uncached")
    for size in (64, 4096):
        rpc = rates.get(f"BM_RpcEcho_Tcp_None/{size}/real_time")
        raw = rates.get(f"BM_Baseline_RawTcpPingPong/{size}/real_time")
        if rpc and raw:
            print(f"RPC echo {size} B over TCP, level NONE: {rpc/1e3:.1f} k calls/s"
                  f" = {rpc/raw:.2f} x a raw TCP ping-pong ({raw/1e3:.1f} k/s)")
    check = rates.get("BM_AccessCheck_20Groups_10Aces")
    base = rates.get("BM_Baseline_TokenMatchMiss")
    if check:
        print(f"access check (20 groups x 10 ACEs): {check/1e6:.1f} M checks/s"
              f" (goal >= 5 M/s: {'met' if check >= 5e6 else 'NOT met'})")
        if base:
            print(f"  = {check/base:.3f} x the rate of one token lookup"
                  f" (baseline {base/1e6:.1f} M/s); a full check costs about"
                  f" {base/check:.1f} lookups")
PY
