#!/usr/bin/env bash
# Runs each libFuzzer target for N seconds on its corpus; new inputs go to a
# scratch directory so the committed corpus stays small and reviewed.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
status=0
for fuzzer in "$build"/fuzz/*_fuzzer; do
  name=$(basename "$fuzzer" _fuzzer)
  scratch=$(mktemp -d)
  mkdir -p fuzz/artifacts
  echo "== $name: ${seconds}s"
  if ! "$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -artifact_prefix=fuzz/artifacts/"$name"- -print_final_stats=1 \
      "$scratch" "fuzz/corpus/$name" 2>&1 | tail -n 12; then
    status=1
  fi
  rm -rf "$scratch"
done
exit $status
