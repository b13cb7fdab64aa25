#!/usr/bin/env python3
"""Build dev-articles/NN.txt (plain) and dev.conll from dev-annotated/NN.ann (inline {TYPE text} markup).
One sentence per line in .ann; line 1 = headline."""
import re, sys, glob, os
BASE = os.path.dirname(os.path.abspath(__file__))
ENT = re.compile(r'\{(PER|ORG|LOC|MISC) ([^{}]+)\}')
ABBR = {'bijv.','o.a.','d.w.z.','e.d.','i.p.v.','m.b.t.','dhr.','mevr.','mr.','dr.','prof.','ir.','drs.','nr.','ca.','enz.','etc.','m.n.','z.g.','t.o.v.','a.s.','jl.','St.','st.','vs.','mln.','mld.','n.a.v.','p.','blz.','ing.','i.v.m.','resp.'}
LEAD = '"(\'['
TRAIL = '"),.:;!?\']'
def tok(text):
    out = []
    for ch in text.split():
        pre, post = [], []
        while ch and ch[0] in '"([' :
            pre.append(ch[0]); ch = ch[1:]
        while ch:
            if ch.endswith('...'):
                post.insert(0, '...'); ch = ch[:-3]; continue
            c = ch[-1]
            if c == '.' and (ch in ABBR or ch.lower() in ABBR or re.fullmatch(r'(?:[A-Za-z]\.){2,}|[A-Z]\.', ch)):
                break
            if c in '"),.:;!?]':
                post.insert(0, c); ch = ch[:-1]; continue
            break
        out += pre + ([ch] if ch else []) + post
    return out
def parse_line(line):
    toks = []
    pos = 0
    for m in ENT.finditer(line):
        for t in tok(line[pos:m.start()]): toks.append((t, 'O'))
        et = tok(m.group(2))
        assert et, line
        for i, t in enumerate(et): toks.append((t, ('B-' if i == 0 else 'I-') + m.group(1)))
        pos = m.end()
    for t in tok(line[pos:]): toks.append((t, 'O'))
    for t, _ in toks:
        if '{' in t or '}' in t: raise SystemExit('stray brace in: ' + line)
    return toks
def main():
    files = sorted(glob.glob(os.path.join(BASE, 'dev-annotated', '*.ann')))
    conll = []
    for f in files:
        n = os.path.basename(f)[:-4]
        lines = [l.strip() for l in open(f, encoding='utf-8') if l.strip() and not l.startswith('#')]
        with open(os.path.join(BASE, 'dev-articles', n + '.txt'), 'w', encoding='utf-8') as o:
            for l in lines: o.write(ENT.sub(lambda m: m.group(2), l) + '\n')
        conll.append('-DOCSTART- -DOCSTART- O\n')
        for l in lines:
            for t, tag in parse_line(l): conll.append(f'{t} _ {tag}\n')
            conll.append('\n')
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BASE, 'dev.conll')
    open(out, 'w', encoding='utf-8').writelines(conll)
    print(len(files), 'articles ->', out)
main()
