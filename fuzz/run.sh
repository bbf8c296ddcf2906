#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS: runs one fuzz target (built by `make fuzz-build`) on its corpus for SECONDS, quietly;
# prints one line (runs, corpus, coverage) or, on a crash, libFuzzer's report and the input's path.
set -uo pipefail
cd "$(dirname "$0")/.."
target="$1" seconds="$2"
mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target" target/fuzz-logs
log="target/fuzz-logs/$target.log"
start=$(date +%s%N)
triple=$(rustc -vV | sed -n 's/^host: //p')
"fuzz/target/$triple/release/$target" "fuzz/corpus/$target" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="fuzz/artifacts/$target/" > "$log" 2>&1
status=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $status -ne 0 ]; then
  echo "FUZZ $target: crashed (exit $status); log: $log"
  grep -E "panicked|Test unit written|SUMMARY|==ERROR" "$log" | head -20
  exit 1
fi
runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$")
cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1)
corpus=$(ls "fuzz/corpus/$target" | wc -l)
printf 'fuzz %-17s %8s runs in %d.%d s, %s, corpus %s\n' "$target" "${runs:-?}" $((took_ms / 1000)) \
  $((took_ms % 1000 / 100)) "${cov:-cov: ?}" "$corpus"
