#!/usr/bin/env bash
# Peak memory of `ontleed annotate` on one article at the default --max-bytes limit (16 MiB):
# realistic Dutch news text (the sample articles, repeated) as one JSONL record, once with its
# paragraphs and once as a single paragraph without newlines, with the fast and the accurate
# model. Prints peak RSS (GNU time's "Maximum resident set size") and wall time per run.
#
#   scripts/article-memory.sh [MODEL...]        (default: fast accurate)
#
# Env: ONTLEED_BIN (default target/release/ontleed, built when missing), ARTICLE_BYTES (default
# 16 MiB minus 64 bytes), ARTICLE_LAYOUTS (default "paragraphs one-paragraph"). Needs GNU time
# (/usr/bin/time; Debian package `time`) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(fast accurate)
bin=${ONTLEED_BIN:-target/release/ontleed}
bytes=${ARTICLE_BYTES:-$((16 * 1024 * 1024 - 64))}
layouts=${ARTICLE_LAYOUTS:-"paragraphs one-paragraph"}
[ -x /usr/bin/time ] || { echo "article-memory.sh: needs GNU time (apt-get install time)" >&2; exit 2; }
[ -x "$bin" ] || cargo build --release --quiet
dir=target/article-memory
mkdir -p "$dir"

for layout in $layouts; do
  python3 - "$dir/$layout.jsonl" "$bytes" "$layout" <<'PY'
import json, pathlib, sys
out, size, layout = sys.argv[1], int(sys.argv[2]), sys.argv[3]
texts = [json.loads(l)["text"] for l in open("data/samples/articles.jsonl", encoding="utf-8") if l.strip()]
texts += [p.read_text(encoding="utf-8") for p in sorted(pathlib.Path("data/samples/txt").glob("*.txt"))]
shared = pathlib.Path("../shared/data/articles/huawei-5g-nl.txt")
if shared.exists():
    texts.append(shared.read_text(encoding="utf-8"))
sep = " " if layout == "one-paragraph" else "\n\n"
if layout == "one-paragraph":
    texts = [" ".join(t.split()) for t in texts]
else:
    texts = [t.strip() for t in texts]
parts, n, i = [], 0, 0
while True:
    t = texts[i % len(texts)]
    add = len((sep if parts else "").encode()) + len(t.encode())
    if n + add > size:
        break
    parts.append(t)
    n += add
    i += 1
text = sep.join(parts)
with open(out, "w", encoding="utf-8") as f:
    f.write(json.dumps({"id": f"memory-{layout}", "text": text}, ensure_ascii=False) + "\n")
print(f"{out}: {len(text.encode())} bytes of text, {text.count(chr(10))} newlines", file=sys.stderr)
PY
  for model in "${models[@]}"; do
    log="$dir/$layout.$model.time"
    /usr/bin/time -v "$bin" annotate -q --ner-model "$model" "$dir/$layout.jsonl" \
      >"$dir/$layout.$model.out.jsonl" 2>"$log" || { echo "annotate failed:" >&2; tail "$log" >&2; exit 1; }
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    entities=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(len(r.get("entities") or []), r.get("error", ""))' "$dir/$layout.$model.out.jsonl")
    printf '%-14s %-9s peak RSS %5d MiB  wall %s  entities %s\n' "$layout" "$model" $((rss / 1024)) "$wall" "$entities"
  done
done
