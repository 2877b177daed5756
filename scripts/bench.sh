#!/usr/bin/env bash
# Runs every benchmark in the bench build and prints the figures the issues
# ask for, as absolute rates and as ratios to the baselines of the same run.
# BENCH_FLAGS adds Google Benchmark flags, e.g. --benchmark_repetitions=5 on
# a busy machine; the summary then uses the medians.
set -euo pipefail
build=${1:-build-bench}
out="$build/bench-results"
mkdir -p "$out"
# A binary no longer built must not lend old figures to this run's ratios.
rm -f "$out"/*.json
read -r -a extra <<< "${BENCH_FLAGS:-}"
for b in "$build"/bench/*_benchmark; do
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_min_time=0.5 --benchmark_format=console \
       --benchmark_out="$out/$name.json" --benchmark_out_format=json "${extra[@]}"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, glob, os, re

# Every result of the run by name; names are unique across the binaries, so
# one binary's figures can be set against another's (comsec against gRPC).
# With repetitions, the median (reported after the runs) stands for them.
results = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    for b in json.load(open(path))["benchmarks"]:
        if b.get("error_occurred"):
            print(f"{b['name']}: FAILED: {b.get('error_message', '')}")
        elif (b.get("run_type", "iteration") == "iteration" or
              b.get("aggregate_name") == "median"):
            results[b.get("run_name", b["name"])] = b
rates = {name: b.get("items_per_second", 0) for name, b in results.items()}

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

# Calls per second (all connections together) and the mean latency of one
# call on one connection. Each connection has one call in flight, so by
# Little's law the latency is connections / rate.
def per_call(name):
    b = results.get(name)
    if not b or not b.get("items_per_second"):
        return None
    rate = b["items_per_second"]
    return rate, b.get("threads", 1) / rate * 1e6

def figures(f):
    return f"{f[0]/1e3:.1f} k calls/s, {f[1]:.1f} us per call"

# One line setting `name` against `base`, both results of this run; nothing
# when either is missing (not built, not yet written, or failed).
def compare(name, base, base_label):
    a, b = per_call(name), per_call(base)
    if a and b:
        print(f"  vs {base_label + ':':<27} {figures(b):<34}"
              f" -> {a[0]/b[0]:.2f} x the rate, {a[1]/b[1]:.2f} x the latency")

# Every comsec echo and null call, whatever its transport and level (NONE
# now; NTLM and the packet levels as they are added), against the floor of
# its transport, against gRPC on TCP, and against level NONE.
call = re.compile(r"^BM_Rpc(?P<kind>Echo|NullCall)_(?P<transport>Tcp|Ncalrpc)"
                  r"_(?P<level>\w+)(?:/(?P<size>\d+))?/real_time"
                  r"(?P<threads>/threads:(?P<connections>\d+))?$")
floors = {"Tcp": ("TCP", "BM_Baseline_RawTcpPingPong", "raw TCP ping-pong"),
          "Ncalrpc": ("ncalrpc", "BM_Baseline_RawUnixPingPong", "raw Unix ping-pong")}
def order(name):
    m = call.match(name)
    return (m["transport"] != "Tcp", m["kind"], m["level"] != "None", m["level"],
            int(m["connections"] or 1), int(m["size"] or 0))
calls = sorted((n for n in results if call.match(n) and per_call(n)), key=order)
if calls:
    print("comsec against baselines from the same run:")
for name in calls:
    m = call.match(name)
    transport, raw, raw_label = floors[m["transport"]]
    connections = int(m["connections"] or 1)
    threads = m["threads"] or ""
    what = f"{m['size']} B echo" if m["kind"] == "Echo" else "null call"
    print(f"{transport} {what}, {connections} connection{'s' * (connections > 1)},"
          f" level {m['level']}: {figures(per_call(name))}")
    # A null call moves no stub bytes; the smallest ping-pong is its floor.
    size = m["size"] or "64"
    compare(name, f"{raw}/{size}/real_time{threads}",
            raw_label + ("" if m["size"] else " 64 B"))
    if m["transport"] == "Tcp" and m["kind"] == "Echo":
        compare(name, f"BM_GrpcEcho_Plaintext/{size}/real_time{threads}",
                "gRPC plaintext")
        compare(name, f"BM_GrpcEcho_Tls/{size}/real_time{threads}", "gRPC+TLS")
    if m["level"] != "None":
        compare(name, name.replace(f"_{m['level']}", "_None", 1), "level None")
        a, b = per_call(name), per_call(name.replace(f"_{m['level']}", "_None", 1))
        if a and b:
            print(f"  level {m['level']} costs {100 * (1 - a[0] / b[0]):.1f}% of"
                  f" level None's call rate")

# Idle connections held by one server (issue 10): memory per connection
# and calls still served on them.
for name, b in results.items():
    if name.startswith("BM_IdleConnections_") and "bytes_per_connection" in b:
        per = b["bytes_per_connection"] / 1024
        print(f"idle connections ({name.split('/')[0][19:]}): {b['connections']:.0f} held,"
              f" {per:.1f} KiB of server memory each (goal <= 16 KiB:"
              f" {'met' if per <= 16 else 'NOT met'}); one call on each:"
              f" {b['calls_served']:.0f} served, {b['calls_per_second']/1e3:.1f} k calls/s")
r16 = per_call("BM_RpcEcho_Tcp_None/64/real_time/threads:16")
b16 = per_call("BM_Baseline_RawTcpPingPong/64/real_time/threads:16")
if r16 and b16:
    ratio = r16[0] / b16[0]
    print(f"16 connections, 64 B echo: {ratio:.2f} x a raw TCP ping-pong"
          f" (goal >= 0.7: {'met' if ratio >= 0.7 else 'NOT met'})")

# A new NTLM-authenticated association: connect, bind + auth3, one call.
h = per_call("BM_NtlmHandshake_Tcp_PktPrivacy/real_time")
if h:
    print(f"NTLM handshake (connect, bind/bind_ack/auth3, first null call) at"
          f" PKT_PRIVACY: {h[1]:.0f} us ({h[0]:.0f} per second)")
# Issue 12: each package at PKT_PRIVACY against level NONE (same run), and
# what a new association costs per package.
packages = ("Ntlm", "Tls", "Kerberos", "Negotiate")
for threads in ("", "/threads:16"):
    for size in (64, 4096):
        base = per_call(f"BM_AuthEcho_Tcp_None/{size}/real_time{threads}")
        for p in packages:
            f = per_call(f"BM_AuthEcho_Tcp_PktPrivacy_{p}/{size}/real_time{threads}")
            if f and base:
                print(f"{p} PKT_PRIVACY {size} B echo, {16 if threads else 1}"
                      f" connection(s): {figures(f)} = {f[0]/base[0]:.2f} x"
                      f" level NONE's rate")
base = per_call("BM_AuthHandshake_Tcp_None/real_time")
for p in packages:
    f = per_call(f"BM_AuthHandshake_Tcp_PktPrivacy_{p}/real_time")
    if f and base:
        print(f"{p} handshake (connect, bind legs, first null call):"
              f" {f[1]:.0f} us = {f[1]/base[1]:.1f} x an unauthenticated one")
# Issue 13 and 14: a COM call against a raw DCE call, the per-call access
# check's share of a COM call (goal <= 5%), impersonate + revert per second.
com = rates.get("BM_ComCall_64B/real_time")
raw = rates.get("BM_RawDceCall_64B/real_time")
checked = rates.get("BM_ComCall_64B_AccessChecked/real_time")
if com and raw:
    print(f"COM call 64 B: {com/1e3:.1f} k calls/s = {raw/com:.2f} x a raw DCE call's"
          f" latency (goal <= 1.2)")
if com and checked:
    print(f"COM call through the access check (R187, every call decided):"
          f" {checked/1e3:.1f} k calls/s, {100*(com/checked-1):+.1f}% latency (goal <= 5%)")
for name, what in (("BM_AccessCheckPerCall", "decided"),
                   ("BM_AccessCheckPerCall_KnownCaller", "known caller, cached")):
    r = rates.get(name)
    if r and com:
        print(f"access check alone ({what}): {1e9/r:.0f} ns = {100*com/r:.2f}% of a COM call")
imp = results.get("BM_ImpersonateRevert")
if imp:
    print(f"impersonate + revert: {imp.get('items_per_second', 0)/1e3:.1f} k/s"
          f" ({'switching the thread uid' if imp.get('switches_uid') else 'token only, not root'})")
# Issue 15: activation of a running multiple-use server against a null ORPC
# call (goal <= 10x), a cold launch against fork+exec of the same binary.
act = rates.get("BM_Activation_Running/real_time")
null = rates.get("BM_Baseline_NullOrpcCall/real_time")
if act and null:
    print(f"activation of a running server: {1e6/act:.0f} us = {null/act:.1f} x a null ORPC"
          f" call ({1e6/null:.0f} us) (goal <= 10: {'met' if null/act <= 10 else 'NOT met'})")
cold = rates.get("BM_Activation_ColdLaunch/iterations:20/real_time")
fork = rates.get("BM_Baseline_ForkExec/iterations:20/real_time")
if cold and fork:
    print(f"cold launch: {1e3/cold:.1f} ms; fork+exec of the same binary: {1e3/fork:.1f} ms"
          f" ({fork/cold:.1f} x)")
PY
