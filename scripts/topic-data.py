#!/usr/bin/env python3
"""Builds the category model's training and development files (JSON Lines with title, text and
categories) from the labels in data/topic-labels/ and the texts in ../shared (never committed).

    scripts/topic-data.py [OUT_DIR]        (default: target/topic-data)

Writes:
  train-conll.jsonl      ned.train articles (287) with their labels
  dev-conll.jsonl        ned.testa articles (74) with their labels (development only)
  train-articles.jsonl   written articles (written-articles*.jsonl), all but every fifth line of each file
  dev-articles.jsonl     written articles, every fifth line of each file
  train-headlines.jsonl  written headlines (written-headlines*.jsonl), all but every fifth line of each file
  dev-headlines.jsonl    written headlines, every fifth line of each file
  extra-sib200.jsonl     SIB-200 train+dev sentences of the 5 topics that map to a category
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")
LABELS = os.path.join(ROOT, "data", "topic-labels")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "topic-data")
SIB = {"sports": "sport", "politics": "politics", "health": "health",
       "science/technology": "technology", "entertainment": "culture"}


def conll_docs(split):
    docs, cur, sent = [], None, []
    with open(os.path.join(SHARED, "conll2002-nl", f"ned.{split}"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("-DOCSTART-"):
                if cur is not None:
                    if sent:
                        cur.append(" ".join(sent))
                        sent = []
                    docs.append(cur)
                cur = []
            elif not line.strip():
                if sent:
                    cur.append(" ".join(sent))
                    sent = []
            else:
                sent.append(line.split(" ")[0])
    if sent:
        cur.append(" ".join(sent))
    docs.append(cur)
    return docs


def labels(prefix):
    out = {}
    for name in sorted(os.listdir(LABELS)):
        if name.startswith(prefix) and name.endswith(".jsonl"):
            for line in open(os.path.join(LABELS, name), encoding="utf-8"):
                if line.strip():
                    r = json.loads(line)
                    out[r["doc"]] = r
    return out


def write(name, records):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{name}: {len(records)}")


def conll(split, prefix):
    docs, lab = conll_docs(split), labels(prefix)
    missing = [i for i in range(len(docs)) if i not in lab]
    if missing:
        sys.exit(f"{split}: no labels for documents {missing[:10]}...")
    out = []
    for i, sents in enumerate(docs):
        head = lab[i].get("headline")
        body = [s for s in sents if s != head] if head else sents
        paras = ["\n".join(body[k:k + 4]) for k in range(0, len(body), 4)]
        out.append({"id": f"{split}-{i:03d}", "title": head, "text": "\n\n".join(paras),
                    "categories": lab[i]["categories"]})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    write("train-conll.jsonl", conll("train", "conll-train-"))
    write("dev-conll.jsonl", conll("testa", "conll-testa-"))
    for kind in ("articles", "headlines"):
        train, dev = [], []
        for name in sorted(os.listdir(LABELS)):
            if not (name.startswith(f"written-{kind}") and name.endswith(".jsonl")):
                continue
            rows = [json.loads(l) for l in open(os.path.join(LABELS, name), encoding="utf-8") if l.strip()]
            rows = [{"id": r["id"], "title": r["title"], "text": r.get("text", ""),
                     "categories": r["categories"]} for r in rows]
            train += [r for n, r in enumerate(rows) if (n + 1) % 5]
            dev += [r for n, r in enumerate(rows) if (n + 1) % 5 == 0]
        write(f"train-{kind}.jsonl", train)
        write(f"dev-{kind}.jsonl", dev)
    sib = []
    for part in ("train", "dev"):
        with open(os.path.join(SHARED, "sib200-nl", f"{part}.tsv"), encoding="utf-8") as f:
            next(f)
            for line in f:
                idx, cat, text = line.rstrip("\n").split("\t", 2)
                if cat in SIB:
                    sib.append({"id": f"sib-{idx}", "text": text, "categories": [SIB[cat]]})
    write("extra-sib200.jsonl", sib)


main()
