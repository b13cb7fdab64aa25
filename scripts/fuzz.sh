#!/usr/bin/env bash
# Coverage-guided fuzzing of ontleed's untrusted-input parsers with cargo-afl (AFL++), on the
# stable toolchain: builds the targets of fuzz/ and runs each for SECONDS_PER_TARGET seconds
# (default 60), one after the other. Exits 1 when a target crashed, listing the crash inputs;
# hangs are listed as warnings. Output: fuzz/out/<target>/default/{queue,crashes,hangs}.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default targets: every one but transformer_model, which runs when named (its build compiles
# candle instrumented): scripts/fuzz.sh 600 transformer_model.
#
# Needs cargo-afl (cargo install --locked cargo-afl@0.18.2), which builds its own AFL++ (4.40c)
# at install time; that build needs clang and make (Debian: apt-get install afl++ brings both).
# Debian's afl-fuzz (4.04c) is not used: it cannot drive targets built with cargo-afl 0.18's
# runtime (fork server protocol of AFL++ >= 4.20c).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(jsonl_reader tokenizer taxonomy aliases fast_model category_model)
fi
# transformer_model (the accurate model's loader) needs the fuzz crate's `transformer` feature:
# candle and tokenizers built instrumented, many minutes, so it runs only when named.
features=()
for t in "${targets[@]}"; do
  [ "$t" = transformer_model ] && features=(--features transformer)
done

if ! cargo afl --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-afl (AFL++ for Rust) is not installed." >&2
  echo "  install it with: cargo install --locked cargo-afl@0.18.2" >&2
  echo "  (it builds AFL++ itself and needs clang and make: apt-get install -y afl++ provides both)" >&2
  exit 3
fi
if ! { cargo afl fuzz -h 2>&1 || true; } | grep -q "afl-fuzz.*based on afl"; then
  echo "fuzz.sh: cargo-afl is installed but its AFL++ (afl-fuzz) is missing: run \`cargo afl config --build --force\`" >&2
  exit 3
fi

echo "fuzz.sh: building the targets (cargo afl build --release)"
cargo afl build --release --quiet "${features[@]}"

# Containers: no CPU frequency governor to read, core_pattern may pipe to a crash handler we
# cannot change; root is fine for AFL++.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_TRY_AFFINITY=1
export AFL_NO_STARTUP_CALIBRATION=1

mkdir -p out
crashes=()
for t in "${targets[@]}"; do
  [ -d "corpus/$t" ] || { echo "fuzz.sh: no corpus/$t" >&2; exit 2; }
  out="out/$t"
  rm -rf "$out"
  echo "fuzz.sh: $t for ${seconds}s"
  # -t 2000+: a test case slower than 2 s is a hang (seeds that slow are skipped, not fatal).
  cargo afl fuzz -V "$seconds" -t 2000+ -i "corpus/$t" -o "$out" "target/release/$t" \
    >"out/$t.log" 2>&1 || { echo "fuzz.sh: afl-fuzz failed for $t:" >&2; tail -20 "out/$t.log" >&2; exit 2; }
  stats="$out/default/fuzzer_stats"
  execs=$(awk -F' *: *' '$1 == "execs_done" {print $2}' "$stats")
  echo "fuzz.sh: $t: $execs executions, $(awk -F' *: *' '$1 == "corpus_count" {print $2}' "$stats") inputs in the queue"
  for f in "$out"/default/crashes/id:*; do
    [ -e "$f" ] && crashes+=("$f")
  done
  for f in "$out"/default/hangs/id:*; do
    [ -e "$f" ] && echo "fuzz.sh: warning: $t hang (over 2 s): fuzz/$f"
  done
done

if [ ${#crashes[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#crashes[@]} crash(es) found; reproduce with fuzz/target/release/TARGET < FILE:" >&2
  printf '  fuzz/%s\n' "${crashes[@]}" >&2
  exit 1
fi
echo "fuzz.sh: no crashes"
