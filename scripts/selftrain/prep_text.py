#!/usr/bin/env python3
"""Write token-only CoNLL files (one token a line, blank line between sentences,
`-DOCSTART-` between documents) for tagging with the accurate model.

Outputs in OUTDIR (default target/selftrain/text):
  wikiann.tok      WikiANN nl train+val tokens (labels dropped), one document per sentence
  wikineural.tok   WikiNEuRal nl val tokens (labels dropped), one document per sentence
  sib200.tok       SIB-200 nld_Latn train+dev+test sentences, one document per row
  modern.tok       written modern articles (title + text; one document per article) and
                   written modern headlines (one document per headline)
Each document starts with `-DOCSTART-` so that the accurate model's document packing and its
one-label-per-name-and-document step do not join unrelated sentences.
"""
import json, re, sys, os

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "data")
TOPIC = os.path.join(ROOT, "data", "topic-labels")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "selftrain", "text")
os.makedirs(OUT, exist_ok=True)

# tokenizer: words (with inner hyphens, apostrophes, dots of abbreviations / numbers kept),
# punctuation separate, CoNLL-2002 style
TOKEN_RE = re.compile(
    r"""(?:[A-Za-zÀ-ÖØ-öø-ÿĀ-žƀ-ɏḀ-ỿ]\.){2,}            # abbreviations like a.s., V.S.
      | \d+(?:[.,:]\d+)+                               # numbers 1.200, 12:30, 3,5
      | \w+(?:[-'’]\w+)*                               # words, hyphen compounds, d'r
      | '[st]\b                                        # 's (as in 's ochtends), 't
      | \S                                             # any other single char
    """, re.X | re.U)

def tokenize(text):
    toks = []
    for m in TOKEN_RE.finditer(text):
        toks.append(m.group(0))
    # merge "'s" handled: `'s` matched only at token start; fine
    return toks

SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9À-Ö'\"‘“(])|(?<=[.!?]['’\"”])\s+")

def sentences(text):
    out = []
    for para in re.split(r"\n\s*\n|\n", text):
        para = para.strip()
        if not para:
            continue
        for s in SENT_SPLIT.split(para):
            s = s.strip()
            if s:
                out.append(s)
    return out

def write_doc(f, sents):
    f.write("-DOCSTART-\n\n")
    for toks in sents:
        if not toks:
            continue
        for t in toks:
            f.write(t + "\n")
        f.write("\n")

def conllu_sents(path):
    sent = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if sent:
                yield sent
            sent = []
            continue
        parts = line.split("\t")
        sent.append(parts[1])
    if sent:
        yield sent

def main():
    n = {}
    with open(f"{OUT}/wikiann.tok", "w", encoding="utf-8") as f:
        c = 0
        for split in ("train", "val"):
            for s in conllu_sents(f"{SHARED}/wikiann-nl/{split}.conllu"):
                write_doc(f, [s]); c += 1
        n["wikiann"] = c
    with open(f"{OUT}/wikineural.tok", "w", encoding="utf-8") as f:
        c = 0
        for s in conllu_sents(f"{SHARED}/wikineural-nl/val.conllu"):
            write_doc(f, [s]); c += 1
        n["wikineural"] = c
    with open(f"{OUT}/sib200.tok", "w", encoding="utf-8") as f:
        c = 0
        for split in ("train", "dev", "test"):
            lines = open(f"{SHARED}/sib200-nl/{split}.tsv", encoding="utf-8").read().splitlines()[1:]
            for line in lines:
                text = line.split("\t", 2)[2]
                write_doc(f, [tokenize(s) for s in sentences(text)]); c += 1
        n["sib200"] = c
    with open(f"{OUT}/modern.tok", "w", encoding="utf-8") as f, \
         open(f"{OUT}/modern-headlines.tok", "w", encoding="utf-8") as fh:
        c = ch = 0
        for name in ("written-articles.jsonl", "written-articles-2.jsonl"):
            for line in open(f"{TOPIC}/{name}", encoding="utf-8"):
                d = json.loads(line)
                sents = [tokenize(d["title"])] + [tokenize(s) for s in sentences(d["text"])]
                write_doc(f, sents); c += 1
        for name in ("written-headlines.jsonl", "written-headlines-2.jsonl"):
            for line in open(f"{TOPIC}/{name}", encoding="utf-8"):
                d = json.loads(line)
                write_doc(fh, [tokenize(d["title"])]); ch += 1
        n["modern-articles"] = c
        n["modern-headlines"] = ch
    print(n)

if __name__ == "__main__":
    main()
