#!/usr/bin/env python3
"""Validate a CoNLL-2002-style file (TOKEN POS TAG, IOB2) and count tokens/entities per type."""
import sys
from collections import Counter
ok=True; toks=0; ents=Counter(); sents=0; docs=0; prev='O'; insent=False
for n,l in enumerate(open(sys.argv[1],encoding='utf-8'),1):
    l=l.rstrip('\n')
    if l.strip()=='':
        if insent: sents+=1
        insent=False; prev='O'; continue
    p=l.split(' ')
    if len(p)!=3 or any(x=='' for x in p):
        print(f'line {n}: not 3 non-empty columns: {l!r}'); ok=False; continue
    if p[0]=='-DOCSTART-':
        docs+=1; prev='O'; continue
    t=p[2]; insent=True; toks+=1
    if t!='O' and (t[:2] not in ('B-','I-') or t[2:] not in ('PER','ORG','LOC','MISC')):
        print(f'line {n}: bad tag {t}'); ok=False
    if t.startswith('I-') and prev[2:]!=t[2:]:
        print(f'line {n}: {t} after {prev}'); ok=False
    if t.startswith('B-'): ents[t[2:]]+=1
    prev=t
if insent: sents+=1
print(f'docs {docs} sentences {sents} tokens {toks} entities {sum(ents.values())} ' + ' '.join(f'{k} {ents[k]}' for k in ('PER','ORG','LOC','MISC')))
print('VALID' if ok else 'INVALID'); sys.exit(0 if ok else 1)
