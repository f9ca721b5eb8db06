#!/usr/bin/env python3
# Figures of the layout (docs/layout.md), for before/after comparisons of a restructure: lines per top-level folder,
# imports that run from a lower layer to a higher one, cycles between top-level folders, files over 300 lines.
# Old folder names (pipeline/cli, pipeline/stack, guard/check, guard/load, projectors/check) are mapped to their roles
# so that a commit from before the restructure can be measured too: scripts/layout-figures.py [checkout dir].
# dependency-cruiser (npm run lint:deps) enforces the rules; this only counts.
import re,os,sys,subprocess,collections
os.chdir(sys.argv[1] if len(sys.argv)>1 else '.')
files=[f for f in subprocess.check_output(['git','ls-files'],text=True).split() if f.endswith('.ts') or f.endswith('.js')]
src_files=[f for f in files if '.test.' not in f and not f.startswith('test/')]
pat=re.compile(r"""(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]""",re.S)
# lines per top-level folder
lines=collections.Counter()
for f in files:
    top=f.split('/')[0] if '/' in f else '(root)'
    lines[top]+=sum(1 for _ in open(f))
print("lines per top-level folder (.ts/.js, tests included):")
for k,v in sorted(lines.items(), key=lambda x:-x[1]): print(f"  {k:12} {v}")
# layer of a file: role, not folder name
def role(p):
    if p.startswith('pipeline/cli/') or p.startswith('cli/'): return 'cli'
    if p.startswith('pipeline/stack/') or p.startswith('devstack/'): return 'devstack'
    if p.startswith(('guard/check/','guard/load/','projectors/check/','verify/')): return 'verify'
    if p=='index.ts': return 'index'
    return p.split('/')[0]
rank={'pipeline':0,'guard':1,'projectors':1,'index':2,'verify':2,'devstack':2,'example':3,'bench':4,'cli':5}
folder=lambda p: p.split('/')[0] if '/' in p else '(root)'
up=[];fedges=collections.defaultdict(set)
for f in src_files:
    s=open(f).read()
    for m in pat.finditer(s):
        spec=m.group(1) or m.group(2)
        t=os.path.normpath(os.path.join(os.path.dirname(f),spec))
        t=re.sub(r'\.js$','.ts',t)
        if folder(f)!=folder(t): fedges[folder(f)].add(folder(t))
        a,b=role(f),role(t)
        if a in rank and b in rank and rank[a]<rank[b]: up.append(f+' -> '+t)
        if a in ('pipeline','guard','projectors') and b in ('verify','devstack','example','bench','cli') and f+' -> '+t not in up: up.append(f+' -> '+t)
fr={'pipeline':0,'guard':1,'projectors':1,'(root)':2,'verify':2,'devstack':2,'example':3,'bench':4,'cli':5}
fu=[]
for f in src_files:
    s2=open(f).read()
    for m in pat.finditer(s2):
        spec=m.group(1) or m.group(2)
        t=re.sub(r'\.js$','.ts',os.path.normpath(os.path.join(os.path.dirname(f),spec)))
        a,b=folder(f),folder(t)
        if a in fr and b in fr and fr[a]<fr[b]: fu.append(f+' -> '+t)
print(f"imports from a lower folder to a higher one (pipeline < guard, projectors < verify, devstack, index.ts < example < bench < cli; non-test files): {len(fu)}")
print(f"imports that run upward (library -> shell/tools/example, or lower layer -> higher; non-test files): {len(up)}")
for u in up: print('   ',u)
# folder cycles (top-level)
def cycles(edges):
    res=set()
    for a in edges:
        stack=[(a,[a])]
        while stack:
            n,path=stack.pop()
            for m in edges.get(n,()):
                if m==a: res.add(tuple(sorted(path)))
                elif m not in path and len(path)<6: stack.append((m,path+[m]))
    return res
cy=cycles(fedges)
print(f"top-level folder cycles (non-test imports): {len(cy)}", [' <-> '.join(c) for c in cy])
big=[(sum(1 for _ in open(f)),f) for f in files]
big=[x for x in big if x[0]>300]
print(f"files over 300 lines: {len(big)} ({sum(1 for n,f in big if '.test.' in f)} of them tests)")
for n,f in sorted(big,reverse=True): print(f"   {n:5} {f}")
