#!/usr/bin/env python3
import sys, collections
VALID = {'O'} | {f'{p}-{t}' for p in 'BI' for t in ('PER','ORG','LOC','MISC')}
tot = collections.Counter(); bad = 0
for fn in sys.argv[1:]:
    prev = 'O'; docs = sents = toks = 0; ents = collections.Counter(); insent = False
    for n, line in enumerate(open(fn, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line:
            if insent: sents += 1
            insent = False; prev = 'O'; continue
        c = line.split(' ')
        if len(c) != 3 or not all(c): print(fn, n, 'cols', repr(line)); bad += 1; continue
        if c[0] == '-DOCSTART-': docs += 1; prev = 'O'; continue
        t = c[2]
        if t not in VALID: print(fn, n, 'tag', line); bad += 1
        if t.startswith('I-') and prev[2:] != t[2:]: print(fn, n, 'iob2', line); bad += 1
        if t.startswith('B-'): ents[t[2:]] += 1
        toks += 1; insent = True; prev = t
    if insent: sents += 1
    tot.update(docs=docs, sents=sents, toks=toks); tot.update({'ent_'+k: v for k, v in ents.items()})
    print(fn, 'docs', docs, 'sents', sents, 'toks', toks, dict(ents))
print('TOTAL', dict(tot), 'errors', bad)
sys.exit(1 if bad else 0)
