#!/usr/bin/env python3
"""Casing augmentation for NER training data (labels kept, IOB2).

Reads CoNLL files (`WORD POS TAG`, `TOKEN TAG` or tab-separated `INDEX TOKEN TAG`) and writes
`TOKEN TAG` copies of some sentences, each copy as its own document (`-DOCSTART- O` before it), so
the perceptron's document features do not mix copies with their originals:

  trunc     headline-like fragment: the sentence cut to start at a random lower-case O word
            (not a function word), which is capitalised ("... de rem op kinderbijslag" ->
            "Rem op kinderbijslag"); final punctuation dropped. Teaches: a capitalised common word
            at the start of a headline or section label is no name.
  capfirst  sentence-initial capitalisation of common words: the first token, when it is an O
            word, is replaced by a capitalised common word drawn from the data's lower-case O
            content words ("Coup", "Ooit", "Rem" ... at the start of a sentence, labelled O).
  nopunct   headline style: the full sentence without its final punctuation (only sentences of
            at most 15 tokens).
  lower     the whole sentence in lower case (names keep their labels).
  upper     the whole sentence in upper case (section labels, all-caps headlines).

Usage: augment.py --out FILE [--trunc F] [--capfirst F] [--nopunct F] [--lower F] [--upper F]
                  [--seed N] FILES...
Each F is the fraction of the input sentences that get a copy of that kind (default 0).
"""
import argparse, random, re

FUNCTION = set("""de het een en of maar dat die dit deze als in op aan van voor met door bij naar
uit over onder tegen tussen om tot te er is was zijn werd worden wordt heeft hebben had ook niet
nog al wel zo dan toen waar wat wie hoe zich ze hij zij wij we ik je jij u hun hen haar hem ons
mijn zijn jullie men geen meer veel alle elk elke ieder iedere""".split())
WORD_RE = re.compile(r"^[a-zà-öø-ÿ][a-zà-öø-ÿ'\-]{2,}$")
FINAL = {".", "!", "?", ";", ":"}


def read(path):
    sents, sent = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            if sent:
                sents.append(sent)
            sent = []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        if "\t" in line:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0].isdigit():
                tok, tag = parts[1], parts[-1]
            else:
                tok, tag = parts[0], parts[-1]
        else:
            parts = line.split(" ")
            tok, tag = parts[0], parts[-1]
        sent.append((tok, tag))
    if sent:
        sents.append(sent)
    return sents


def fix_iob(sent):
    out, prev = [], "O"
    for tok, tag in sent:
        if tag.startswith("I-") and (prev == "O" or prev[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append((tok, tag))
        prev = tag
    return out


def cap(w):
    return w[:1].upper() + w[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    for k in ("trunc", "capfirst", "nopunct", "lower", "upper"):
        ap.add_argument("--" + k, type=float, default=0.0)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    sents = [s for f in a.files for s in read(f)]
    commons = [t for s in sents for t, g in s if g == "O" and WORD_RE.match(t) and t not in FUNCTION]
    counts = {}
    copies = []
    for s in sents:
        n = len(s)
        has_final = s[-1][0] in FINAL
        if rng.random() < a.trunc and n >= 5:
            cands = [i for i in range(1, n - 2)
                     if s[i][1] == "O" and WORD_RE.match(s[i][0]) and s[i][0] not in FUNCTION]
            if cands:
                i = rng.choice(cands)
                j = min(n, i + rng.randint(3, 10))
                frag = s[i:j]
                while frag and frag[-1][0] in FINAL | {","}:
                    frag = frag[:-1]
                if len(frag) >= 2:
                    frag = [(cap(frag[0][0]), "O")] + frag[1:]
                    copies.append(fix_iob(frag)); counts["trunc"] = counts.get("trunc", 0) + 1
        if rng.random() < a.capfirst and n >= 3 and commons:
            if s[0][1] == "O":
                w = cap(rng.choice(commons))
                rest = s[1:]
                copies.append([(w, "O")] + rest); counts["capfirst"] = counts.get("capfirst", 0) + 1
        if rng.random() < a.nopunct and has_final and 3 <= n <= 16:
            copies.append(s[:-1]); counts["nopunct"] = counts.get("nopunct", 0) + 1
        if rng.random() < a.lower:
            copies.append([(t.lower(), g) for t, g in s]); counts["lower"] = counts.get("lower", 0) + 1
        if rng.random() < a.upper and n <= 20:
            copies.append([(t.upper(), g) for t, g in s]); counts["upper"] = counts.get("upper", 0) + 1
    with open(a.out, "w", encoding="utf-8") as f:
        for c in copies:
            f.write("-DOCSTART- O\n\n")
            for t, g in c:
                f.write(f"{t} {g}\n")
            f.write("\n")
    print(a.out, len(sents), "sentences in,", len(copies), "copies:", counts)


if __name__ == "__main__":
    main()
