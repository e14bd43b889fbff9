#!/usr/bin/env python3
"""Reference numbers for the Swift metrics (Sources/Review/Metrics*.swift), computed independently in numpy/scipy.

scikit-learn is not installed here, so the formulas follow its documented definitions
(classification_report with zero_division=0; labels = classes present in truth or prediction).
Run:  python3 Tests/Fixtures/review/make_metrics_fixture.py  → metrics_fixture.json
"""
import json
import os

import numpy as np
from scipy.optimize import minimize_scalar

CLASSES = ['Comminuted', 'Greenstick', 'Healthy', 'Linear', 'Oblique Displaced', 'Oblique', 'Segmental',
           'Spiral', 'Transverse Displaced', 'Transverse']
K = len(CLASSES)
N = 157
rng = np.random.default_rng(7)

# Truth never uses Linear (3) or Segmental (6); the model sometimes predicts Segmental (a class without support).
present = [c for c in range(K) if c not in (3, 6)]
truth = rng.choice(present, size=N, p=np.array([3, 1, 1, 4, 1, 1, 6, 2], float) / 19)
logits = rng.normal(0, 1.2, size=(N, K))
logits[np.arange(N), truth] += rng.normal(2.2, 1.5, size=N)        # informative but imperfect
logits[:6, 6] += 6.0                                                 # a few confident Segmental predictions
logits[10:14, 8] += 5.0; truth[10:14] = 0                            # Comminuted → Transverse Displaced
logits[20:23, 2] += 5.0; truth[20:23] = 8                            # Transverse Displaced → Healthy
logits *= 1.7                                                        # overconfident, so T > 1
logits = np.round(logits, 6)


def softmax(z, T=1.0):
    z = z / T
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


probs = softmax(logits)
pred = np.argmax(probs, axis=1)

cm = np.zeros((K, K), int)
for t, p in zip(truth, pred):
    cm[t, p] += 1
support = cm.sum(axis=1)
predicted = cm.sum(axis=0)
tp = np.diag(cm)
precision = [float(tp[c] / predicted[c]) if predicted[c] else None for c in range(K)]
recall = [float(tp[c] / support[c]) if support[c] else None for c in range(K)]
f1 = []
for c in range(K):
    if support[c] == 0 and predicted[c] == 0:
        f1.append(None)
        continue
    p, r = precision[c] or 0.0, recall[c] or 0.0
    f1.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
labels = [c for c in range(K) if support[c] or predicted[c]]
z = lambda v: 0.0 if v is None else v
macro = {name: float(np.mean([z(vals[c]) for c in labels])) for name, vals in
         (('precision', precision), ('recall', recall), ('f1', f1))}
weighted = {name: float(sum(z(vals[c]) * support[c] for c in range(K)) / N) for name, vals in
            (('precision', precision), ('recall', recall), ('f1', f1))}
accuracy = float((pred == truth).mean())
top2 = float(np.mean([truth[i] in np.argsort(-probs[i], kind='stable')[:2] for i in range(N)]))
critical = {'Comminuted->Transverse Displaced': int(cm[0, 8]), 'Transverse Displaced->Healthy': int(cm[8, 2])}


def macro_f1(t, p):
    m = np.zeros((K, K), int)
    np.add.at(m, (t, p), 1)
    s, q, d = m.sum(1), m.sum(0), np.diag(m)
    vals = []
    for c in range(K):
        if not s[c] and not q[c]:
            continue
        pr = d[c] / q[c] if q[c] else 0.0
        rc = d[c] / s[c] if s[c] else 0.0
        vals.append(0.0 if pr + rc == 0 else 2 * pr * rc / (pr + rc))
    return float(np.mean(vals))


# SplitMix64, the same generator as Sources/Review/MetricsSeededRandom.swift.
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        x = self.state
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
        return x ^ (x >> 31)


SEED, B = 20231007, 1000
gen = SplitMix64(SEED)
accs, f1s = [], []
for _ in range(B):
    idx = np.array([gen.next() % N for _ in range(N)])
    accs.append(float((truth[idx] == pred[idx]).mean()))
    f1s.append(macro_f1(truth[idx], pred[idx]))
g = SplitMix64(SEED)
first_draws = [str(g.next()) for _ in range(3)]  # as strings: JSON numbers lose 64-bit precision

conf = probs.max(axis=1)
edges = np.linspace(0, 1, 16)
ece = 0.0
bins = []
for lo, hi in zip(edges[:-1], edges[1:]):
    m = (conf > lo) & (conf <= hi)
    if lo == 0:
        m |= conf == 0
    cnt = int(m.sum())
    if cnt:
        acc_b, conf_b = float((pred[m] == truth[m]).mean()), float(conf[m].mean())
        ece += cnt / N * abs(acc_b - conf_b)
        bins.append({'count': cnt, 'accuracy': acc_b, 'confidence': conf_b})
    else:
        bins.append({'count': 0, 'accuracy': None, 'confidence': None})


def nll(T):
    zz = logits / T
    zz = zz - zz.max(axis=1, keepdims=True)
    lse = np.log(np.exp(zz).sum(axis=1))
    return float(np.mean(lse - zz[np.arange(N), truth]))


res = minimize_scalar(lambda u: nll(np.exp(u)), bounds=(np.log(1 / 20), np.log(20)), method='bounded',
                      options={'xatol': 1e-10})
T = float(np.exp(res.x))

errors = [i for i in range(N) if pred[i] != truth[i]]
errors.sort(key=lambda i: (-conf[i], i))

out = {
    'classes': CLASSES, 'truth': truth.tolist(), 'logits': logits.tolist(),
    'predicted': pred.tolist(), 'confusion_matrix': cm.tolist(),
    'precision': precision, 'recall': recall, 'f1': f1, 'support': support.tolist(),
    'accuracy': accuracy, 'macro': macro, 'weighted': weighted, 'errors': int(N - tp.sum()),
    'top2_accuracy': top2, 'critical': critical,
    'bootstrap': {'seed': SEED, 'resamples': B, 'first_draws': first_draws,
                  'accuracy': [float(np.percentile(accs, 2.5)), float(np.percentile(accs, 97.5))],
                  'macro_f1': [float(np.percentile(f1s, 2.5)), float(np.percentile(f1s, 97.5))]},
    'ece15': ece, 'bins15': bins, 'temperature': T, 'nll_at_1': nll(1.0), 'nll_at_T': nll(T),
    'errors_by_confidence': errors,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'metrics_fixture.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
print(f'wrote {path}: accuracy {accuracy:.4f} macro-F1 {macro["f1"]:.4f} ECE {ece:.4f} T {T:.4f}')
