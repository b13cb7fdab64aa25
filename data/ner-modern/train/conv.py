#!/usr/bin/env python3
"""Convert inline-markup source (src/part-NN.txt) to CoNLL-2002 IOB2 (part-NN.conll).
Source: documents separated by a line '===', one sentence per line, entities as [TYPE text]."""
import re, sys
ABBR = {"mr.","dr.","prof.","ir.","drs.","ing.","o.a.","bijv.","d.w.z.","ca.","m.n.","St.","nr.","z.g.a.n.","i.p.v.","t.o.v.","e.d.","enz.","vs.","jr.","Jr.","Mr.","Dr.","Prof.","mevr.","dhr.","aug.","sept.","n.a.v.","m.b.t.","incl.","etc."}
PUNCT_LEAD = '"(\u201c\u2018['
PUNCT_TRAIL = '",.:;!?)\u201d\u2019]…'
def tok(text):
    out = []
    for w in text.split():
        lead, trail = [], []
        while w and w[0] in PUNCT_LEAD:
            lead.append(w[0]); w = w[1:]
        while w and w[-1] in PUNCT_TRAIL:
            if w[-1] == '.' and (w in ABBR or re.fullmatch(r"[A-Z]\.", w) or re.fullmatch(r"([A-Za-z]\.){2,}", w)):
                break
            if w.endswith('...'):
                trail.insert(0, '...'); w = w[:-3]; continue
            trail.insert(0, w[-1]); w = w[:-1]
        parts = []
        if w:
            # split slash lists: Burenpolderweg/Groeninx -> Burenpolderweg / Groeninx (not in URLs)
            if '/' in w and not re.search(r"https?:|www\.", w):
                for i, p in enumerate(w.split('/')):
                    if i: parts.append('/')
                    if p: parts.append(p)
            else:
                parts.append(w)
        out += lead + parts + trail
    return out
SEG = re.compile(r"\[(PER|ORG|LOC|MISC) ([^\]]+)\]")
def convert(line):
    res = []; pos = 0
    for m in SEG.finditer(line):
        for t in tok(line[pos:m.start()]): res.append((t, 'O'))
        ts = tok(m.group(2))
        assert ts, line
        for i, t in enumerate(ts): res.append((t, ('B-' if i == 0 else 'I-') + m.group(1)))
        pos = m.end()
    for t in tok(line[pos:]): res.append((t, 'O'))
    for t, _ in res:
        assert '[' not in t and ']' not in t, (t, line)
    return res
def main(src, dst):
    docs = [[]]
    for raw in open(src, encoding='utf-8'):
        raw = raw.strip()
        if raw.startswith('#'): continue
        if raw == '===':
            if docs[-1]: docs.append([])
            continue
        if raw: docs[-1].append(raw)
    docs = [d for d in docs if d]
    with open(dst, 'w', encoding='utf-8') as f:
        for d in docs:
            f.write('-DOCSTART- -DOCSTART- O\n\n')
            for s in d:
                for t, tag in convert(s): f.write(f'{t} _ {tag}\n')
                f.write('\n')
if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
