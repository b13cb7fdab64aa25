#!/usr/bin/env bash
# Throughput of the CLI, the Python API and the Spark job on the same 10,000 generated Dutch
# articles, in one run: articles/s, tokens/s and peak memory of each.
#
#   scripts/bench-python.sh [--articles N] [--seed S] [--repeat R] [--skip-spark] [--ner-model M]
#
# Needs the Python package installed in a venv (.ci/python.sh makes one): the interpreter is
# $ONTLEED_PY, else target/py/venv-ci/bin/python, else target/py/venv/bin/python. The CLI is
# $ONTLEED_BIN, else built with `cargo build --release` (CARGO_TARGET_DIR is respected).
# The articles recombine sentences of data/samples/articles.jsonl's Dutch articles with a fixed
# seed, so every run (and every machine) gets the same input. Work files: target/py/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

py="${ONTLEED_PY:-}"
if [ -z "$py" ]; then
  for c in target/py/venv-ci/bin/python target/py/venv/bin/python; do
    if [ -x "$c" ]; then py="$root/$c"; break; fi
  done
fi
if [ -z "$py" ] || ! "$py" -c 'import ontleed' 2>/dev/null; then
  echo "bench-python: no Python with ontleed installed (set ONTLEED_PY, or run .ci/python.sh)" >&2
  exit 2
fi
if [ -z "${ONTLEED_BIN:-}" ]; then
  cargo build --release --quiet --bin ontleed
  target="${CARGO_TARGET_DIR:-target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  export ONTLEED_BIN="$target/release/ontleed"
fi

exec "$py" - "$@" <<'PYTHON'
import argparse
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ap = argparse.ArgumentParser(prog="bench-python.sh")
ap.add_argument("--articles", type=int, default=10_000)
ap.add_argument("--seed", type=int, default=8)
ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
ap.add_argument("--skip-spark", action="store_true")
ap.add_argument("--ner-model", default="fast", help="NER model of all runs (default fast: the overhead of the bindings shows best against the cheapest model)")
args = ap.parse_args()

root = Path.cwd()
work = root / "target" / "py" / "bench"
work.mkdir(parents=True, exist_ok=True)
cli = os.environ["ONTLEED_BIN"]


def generate(path: Path) -> None:
    """Dutch articles made of the samples' sentences, recombined with a fixed seed."""
    rows = [json.loads(l) for l in (root / "data/samples/articles.jsonl").read_text().splitlines() if l.strip()]
    sentences = []
    for r in rows:
        if not r["id"].startswith("nl-"):
            continue
        for para in r["text"].split("\n\n"):
            for s in re.split(r"(?<=[.!?])\s+", para.strip()):
                if len(s) > 20 and not s.startswith(("Lees", "Volg", "Advertentie", "Gerelateerde")):
                    sentences.append(s)
    rng = random.Random(args.seed)
    with path.open("w") as f:
        for i in range(args.articles):
            paras = [
                " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5)))
                for _ in range(rng.randint(3, 7))
            ]
            row = {
                "id": f"gen-{i:05d}",
                "title": rng.choice(sentences)[:80],
                "date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "source": "bench",
                "text": "\n\n".join(paras),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


TICKS = os.sysconf("SC_CLK_TCK")


def tree_rss_kib(pid: int, cpu: dict):
    """Resident memory of a process and all its descendants, and of the largest of them,
    in KiB; records each one's CPU seconds (user + system) so far in `cpu`."""
    children = {}
    ticks = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        p = int(stat.split("/")[2])
        children.setdefault(int(fields[1]), []).append(p)
        ticks[p] = int(fields[11]) + int(fields[12])
    total, largest, todo = 0, 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE") // 1024
    while todo:
        p = todo.pop()
        try:
            rss = int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            rss = 0
        total += rss
        largest = max(largest, rss)
        if p in ticks:
            cpu[p] = max(cpu.get(p, 0.0), ticks[p] / TICKS)
        todo.extend(children.get(p, []))
    return total, largest


def measure(cmd, env=None):
    """Runs cmd; returns (seconds, stderr, peak KiB of the process tree, peak KiB of its
    largest process)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
    peak = [0, 0]
    cpu = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            total, largest = tree_rss_kib(proc.pid, cpu)
            peak[0] = max(peak[0], total)
            peak[1] = max(peak[1], largest)
            done.wait(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    secs = time.monotonic() - t0
    done.set()
    th.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"bench-python: {cmd[:3]} failed ({proc.returncode}):\n{err[-3000:]}")
    # The sampler misses the last 0.1 s; the kernel's figures for the process itself (and
    # the children it waited for) cover that.
    cpu[proc.pid] = max(cpu.get(proc.pid, 0.0), usage.ru_utime + usage.ru_stime)
    return secs, err, peak[0], max(peak[1], usage.ru_maxrss), sum(cpu.values())


API = r"""
import json, sys, time
import ontleed
src, dst, mode, model = sys.argv[1:5]
t0 = time.monotonic()
nlp = ontleed.Pipeline(ner_model=model)
t1 = time.monotonic()
with open(src, "rb") as f, open(dst, "w") as out:
    if mode == "lines":
        items = (l.rstrip(b"\n") for l in f)
    else:
        items = (json.loads(l) for l in f)
    n = 0
    for rec in nlp.iter_annotate(items, batch_size=512, source=src):
        out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        n += 1
t2 = time.monotonic()
print(f"api: {n} records; load {t1 - t0:.2f} s; annotate+write {t2 - t1:.2f} s", file=sys.stderr)
"""

articles = work / "articles.jsonl"
generate(articles)
size = articles.stat().st_size
print(f"input: {args.articles} articles, {size / 1e6:.1f} MB, seed {args.seed} ({articles})")
print(f"cores: {os.cpu_count()}; load average at start: {os.getloadavg()}")

py = sys.executable
commands = [
    # 1. The CLI.
    ("cli", [cli, "annotate", "--ner-model", args.ner_model, str(articles), "-o", str(work / "cli.jsonl")]),
    # 2. The Python API in one process: JSONL lines as bytes (the CLI's parsing) and dicts.
    ("python-api (bytes lines)", [py, "-c", API, str(articles), str(work / "api.jsonl"), "lines", args.ner_model]),
    ("python-api (dicts)", [py, "-c", API, str(articles), str(work / "api-dicts.jsonl"), "dicts", args.ner_model]),
]
if not args.skip_spark:
    # 3. Spark on local[2].
    commands.append((
        "spark local[2]",
        [py, "-m", "ontleed.spark", "--input", str(articles), "--output", str(work / "spark"),
         "--output-format", "jsonl", "--master", "local[2]", "--overwrite", "--ner-model", args.ner_model,
         "--conf", "spark.ui.enabled=false"],
    ))

# Rounds interleave the runs, so that load from elsewhere falls on all of them alike.
results = {name: [] for name, _ in commands}
for r in range(args.repeat):
    for name, cmd in commands:
        res = measure(cmd)
        results[name].append(res)
        print(f"  round {r + 1}, {name}: {res[0]:.2f} s wall, {res[4]:.2f} s CPU", file=sys.stderr)
runs = {name: min(rs, key=lambda x: x[0]) for name, rs in results.items()}
m = re.search(r"(\d+) articles annotated, (\d+) error records, (\d+) tokens in ([\d.]+) s", runs["cli"][1])
n_articles, tokens, cli_inner = int(m.group(1)), int(m.group(3)), float(m.group(4))

# The outputs agree (records compared as parsed JSON, any order for Spark).
want = (work / "cli.jsonl").read_text().splitlines()
assert (work / "api.jsonl").read_text().splitlines() == want, "api output differs from the CLI's"
if not args.skip_spark:
    got = [l for f in sorted(glob.glob(str(work / "spark" / "part-*"))) for l in Path(f).read_text().splitlines()]
    assert sorted(json.dumps(json.loads(l)) for l in got) == sorted(json.dumps(json.loads(l)) for l in want), \
        "spark output differs from the CLI's"
    print("outputs: the API's and the Spark job's records equal the CLI's")

print(f"\n{'run':28} {'wall s':>8} {'articles/s':>11} {'tokens/s':>10} {'vs CLI':>7} {'CPU s':>7} {'CPU vs CLI':>10} {'peak RSS tree':>14} {'largest proc':>13}")
base = runs["cli"][0]
base_cpu = runs["cli"][4]
for name, (secs, err, tree, largest, cpu_s) in runs.items():
    print(f"{name:28} {secs:8.2f} {n_articles / secs:11.0f} {tokens / secs:10.0f} {base / secs:7.2f} "
          f"{cpu_s:7.2f} {base_cpu / cpu_s:10.2f} {tree / 1024:11.0f} MiB {largest / 1024:9.0f} MiB")
print("(vs CLI: CLI time / run time, so 0.90 is 10% slower; CPU: user + system seconds of the"
      " whole process tree, which other load on the machine does not inflate as it does wall time;"
      " runs interleaved, best wall time of --repeat kept)")
print(f"\n(tokens: {tokens}, as the CLI counts them; wall time includes start-up and model loading)")
print(f"cli, annotation alone (its own summary): {cli_inner:.2f} s, {tokens / cli_inner:.0f} tokens/s")
for name in ("python-api (bytes lines)", "python-api (dicts)"):
    m = re.search(r"annotate\+write ([\d.]+) s", runs[name][1])
    if m:
        s = float(m.group(1))
        print(f"{name}, annotate+write alone: {s:.2f} s, {n_articles / s:.0f} articles/s, {tokens / s:.0f} tokens/s")
if "spark local[2]" in runs:
    err = runs["spark local[2]"][1]
    up = re.search(r"up in ([\d.]+) s", err)
    job = re.search(r"\(jsonl\) in ([\d.]+) s", err)
    if up and job:
        s = float(job.group(1))
        print(f"spark local[2] after start-up (line count + annotate + write): {s:.2f} s, "
              f"{n_articles / s:.0f} articles/s, {tokens / s:.0f} tokens/s; Spark start-up {float(up.group(1)):.2f} s")
print(f"load average at end: {os.getloadavg()}")
PYTHON
