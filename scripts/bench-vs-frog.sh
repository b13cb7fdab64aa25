#!/usr/bin/env bash
# Whole-process speed of `ontleed annotate` against Frog on the same ~70k tokens of Dutch news.
#
# Input: the CoNLL-2002 Dutch news text from ../shared (ned.testa, then ned.train's first
# documents until ~70k tokens), written as one sentence per line for Frog (-n) and as one JSONL
# article per CoNLL document for ontleed. Needs Debian's frog + frogdata
# (apt-get install -y frog frogdata) and GNU time.
#
# Usage: scripts/bench-vs-frog.sh [NER_MODEL[:PRECISION]...]   (default: fast; e.g. accurate accurate:f32 fast)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}/data/conll2002-nl
out=target/bench
mkdir -p "$out"
models=("${@:-fast}")
[ $# -eq 0 ] && models=(fast)

python3 - "$shared" "$out" <<'PY'
import json, sys
shared, out = sys.argv[1], sys.argv[2]
docs, doc, sent = [], [], []
for f in ("ned.testa", "ned.train"):
    for line in open(f"{shared}/{f}", encoding="utf-8"):
        p = line.split()
        if not p:
            if sent: doc.append(sent); sent = []
        elif p[0] == "-DOCSTART-":
            if sent: doc.append(sent); sent = []
            if doc: docs.append(doc); doc = []
        else:
            sent.append(p[0])
    if sent: doc.append(sent); sent = []
    if doc: docs.append(doc); doc = []
picked, n = [], 0
for d in docs:
    if n >= 70000: break
    picked.append(d); n += sum(map(len, d))
with open(f"{out}/news.txt", "w", encoding="utf-8") as t, open(f"{out}/news.jsonl", "w", encoding="utf-8") as j:
    for i, d in enumerate(picked):
        for s in d: t.write(" ".join(s) + "\n")
        j.write(json.dumps({"id": i, "text": "\n".join(" ".join(s) for s in d)}, ensure_ascii=False) + "\n")
print(f"{len(picked)} documents, {sum(len(d) for d in picked)} sentences, {n} tokens", file=sys.stderr)
PY

cargo build --release --quiet
bin=target/release/ontleed
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > /dev/null 2> "$out/stderr.txt" || { cat "$out/stderr.txt"; exit 1; }
  read -r secs kb < "$out/time.txt"
  printf '%-60s %8.2f s  %7.0f MB peak RSS\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)"
  echo "$secs"  > "$out/last.txt"
}
if command -v frog > /dev/null; then
  measure "frog --skip=tmpacl --threads=1 -n" frog --skip=tmpacl --threads=1 -n -t "$out/news.txt" -o "$out/frog.out"
  frog_s=$(cat "$out/last.txt")
else
  echo "frog is not installed (apt-get install -y frog frogdata): skipping it"
  frog_s=""
fi
for spec in "${models[@]}"; do
  # MODEL or MODEL:PRECISION (accurate:f32 runs the transformer without the int8 kernels).
  m=${spec%%:*}
  flags=(--ner-model "$m")
  [ "$spec" != "$m" ] && flags+=(--ner-precision "${spec#*:}")
  measure "ontleed annotate ${flags[*]}" "$bin" annotate -q "${flags[@]}" "$out/news.jsonl"
  s=$(cat "$out/last.txt")
  [ -n "$frog_s" ] && printf '%-60s %8.1fx faster than Frog\n' "" "$(echo "$frog_s/$s" | bc -l)"
done
measure "ontleed annotate --threads 1 (fast)" "$bin" annotate -q --threads 1 --ner-model fast "$out/news.jsonl"
