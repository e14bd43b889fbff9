#!/usr/bin/env python3
"""A seeded synthetic team and its agreement, computed by scikit-learn and statsmodels (the references).

Three readers with known confusion read 240 cases of the ten HBFMID classes:
- each reader gives the true class with their own accuracy (0.85, 0.70, 0.55), else a neighbouring class
  (the confusion that matters: displaced ↔ non-displaced, oblique ↔ spiral, …), and flags 3 % of cases;
- reader "carol" skips 20 % of the cases, so some cases have two reads and some one;
- 4 cases are read by "alice" only.
The Swift tests load the reads into a review database and check fracview's κ against these to 1e-9.
Run:  python3 Tests/Fixtures/agreement/make_agreement_fixture.py  → agreement_fixture.json
Needs: scikit-learn, statsmodels (training/requirements-test.txt).
"""
import json
import os

import numpy as np
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

CLASSES = ['Comminuted', 'Greenstick', 'Healthy', 'Linear', 'Oblique Displaced', 'Oblique', 'Segmental',
           'Spiral', 'Transverse Displaced', 'Transverse']
K = len(CLASSES)
N = 240
# The class each one is most often mistaken for.
NEIGHBOUR = {0: 8, 1: 3, 2: 3, 3: 9, 4: 5, 5: 7, 6: 0, 7: 5, 8: 9, 9: 8}
READERS = {'alice': 0.85, 'bob': 0.70, 'carol': 0.55}
rng = np.random.default_rng(14)

truth = rng.choice(K, size=N, p=np.array([3, 1, 2, 1, 2, 2, 1, 2, 3, 3], float) / 20)
reads = []  # (case index, reader, class or None)
for reader, accuracy in READERS.items():
    for i in range(N):
        if reader == 'carol' and rng.random() < 0.20:
            continue
        if reader != 'alice' and i >= N - 4:
            continue  # alice alone
        u = rng.random()
        if u < 0.03:
            reads.append((i, reader, None))          # a flag: no class
        elif u < 0.03 + accuracy * 0.97:
            reads.append((i, reader, int(truth[i])))
        elif rng.random() < 0.7:
            reads.append((i, reader, NEIGHBOUR[int(truth[i])]))
        else:
            reads.append((i, reader, int(rng.integers(K))))

by_case = {}
for i, reader, c in reads:
    by_case.setdefault(i, {})[reader] = c

def pair(a_of, b_of):
    xs, ys = [], []
    for i in sorted(by_case):
        a, b = a_of(i), b_of(i)
        if a is not None and b is not None:
            xs.append(a); ys.append(b)
    return {'n': len(xs), 'kappa': float(cohen_kappa_score(xs, ys)),
            'percent_agreement': float(np.mean(np.array(xs) == np.array(ys)))}

names = sorted(READERS)
pairs = {}
for x in range(len(names)):
    for y in range(x + 1, len(names)):
        a, b = names[x], names[y]
        pairs[f'{a}|{b}'] = pair(lambda i, a=a: by_case[i].get(a), lambda i, b=b: by_case[i].get(b))
versus = {a: pair(lambda i, a=a: by_case[i].get(a), lambda i: int(truth[i])) for a in names}

complete = [i for i in sorted(by_case) if all(by_case[i].get(r) is not None for r in names)]
table, _ = aggregate_raters(np.array([[by_case[i][r] for r in names] for i in complete]))
fleiss = {'n': len(complete), 'kappa': float(fleiss_kappa(table, method='fleiss')),
          'all_agree': float(np.mean([len({by_case[i][r] for r in names}) == 1 for i in complete]))}

out = {
    'classes': CLASSES,
    'split': 'test',
    'reads': [{'path': f'test/images/case{i:03d}.jpg', 'truth': int(truth[i]), 'reader': r, 'class': c}
              for i, r, c in reads],
    'cohen_pairs': pairs,
    'cohen_vs_labels': versus,
    'fleiss': fleiss,
    'single_reader_cases': sum(1 for i in by_case if len(by_case[i]) == 1),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'agreement_fixture.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
print(f'wrote {path}: {len(reads)} reads, pairs {[(k, round(v["kappa"], 4)) for k, v in pairs.items()]}, '
      f'fleiss {fleiss["kappa"]:.4f} on {fleiss["n"]}')
