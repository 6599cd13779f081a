#!/usr/bin/env bash
# Fuzzes seawall-core's parsers of outside input with libFuzzer, on stable Rust: the flags are
# cargo-fuzz's (coverage counters, compare tracing, `--cfg fuzzing`), without a sanitizer (safe
# Rust: the crashes sought are panics, overflows and failed debug assertions).
#   scripts/fuzz.sh SECONDS [target…]   each target for SECONDS (all targets by default)
#   FUZZ_MERGE=1 scripts/fuzz.sh …      then merges what was found into the committed corpus
#                                       (only inputs that add coverage: libFuzzer's -merge=1)
#   FUZZ_JOBS=N scripts/fuzz.sh …       N targets at once (default: the number of cores)
# Each target starts from its committed corpus (core/fuzz/corpus/<target>) and writes what it
# finds under target/fuzz/; a crash stops the run with the input saved (`crash-…`), to be turned
# into a regression test. Prints executions and coverage per target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:?seconds per target}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json options scenario snapshot retry_after engine_ops fleet_reports)
out="$root/target/fuzz"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
# An explicit --target keeps the flags off build scripts (as cargo-fuzz does).
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --quiet --locked --release --manifest-path "$root/core/fuzz/Cargo.toml" --target "$host" --target-dir "$out/build" --bins
# One target: fuzz from the committed corpus, report executions and coverage, merge if asked.
fuzz_one() {
  local t=$1 work="$out/corpus/$1" runs cov
  mkdir -p "$work" "$out/artifacts/$t"
  local dict=()
  [ -f "$root/core/fuzz/dict/$t.dict" ] && dict=("-dict=$root/core/fuzz/dict/$t.dict")
  # New inputs go to the work folder; the committed corpus is read, never written.
  "$out/build/$host/release/$t" "$work" "$root/core/fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" 2>"$out/$t.log" || { tail -40 "$out/$t.log"; echo "fuzz: $t crashed; the input is in $out/artifacts/$t/"; return 1; }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$t.log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1)
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    "$out/build/$host/release/$t" -merge=1 -max_len=4096 "$root/core/fuzz/corpus/$t" "$work" 2>>"$out/$t.log"
  fi
  echo "fuzz: $t: $runs executions in ${seconds}s, $cov, corpus $(ls "$work" | wc -l) new + $(ls "$root/core/fuzz/corpus/$t" | wc -l) committed, no crash"
}
jobs_max=${FUZZ_JOBS:-$(nproc)}
failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs_max" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
