"""Multi-Task Hypernetworks on Cubic, with and without task metadata.

Twenty cubic polynomials ``y = a x^3 + b x^2 + c x + d`` with random coefficients (the
task metadata) and 10 training rows each. The hypernetwork generates one small network
per task from a learned task embedding, optionally concatenated with the coefficients.
With the metadata it can also generate a network for a polynomial it never saw.

Run::

    OMP_NUM_THREADS=1 python examples/hypernet_metadata.py
"""

import numpy as np

from skmtl.datasets.synthetic import make_cubic_tasks
from skmtl.hypernet import MultiTaskHypernetRegressor


def rmse(pred, y):
    return float(np.sqrt(np.mean((pred - y) ** 2)))


# 21 tasks: 20 to train on, the last one held out for the zero-shot demo
tasks, meta = make_cubic_tasks(n_tasks=21, n_samples=17, random_state=0)
fit = [(X[:13], y[:13]) for X, y in tasks[:20]]  # 10 train + 3 validation rows per task
test = [(X[13:], y[13:]) for X, y in tasks[:20]]  # 4 test rows per task

params = dict(lr=3e-3, max_epochs=600, n_iter_no_change=50, random_state=0)
for label, metadata in [("without metadata", None), ("with metadata", meta.iloc[:20])]:
    est = MultiTaskHypernetRegressor(**params).fit(fit, metadata=metadata)
    preds = est.predict([X for X, _ in test])
    score = np.mean([rmse(p, y) for p, (_, y) in zip(preds, test)])
    print(f"hypernetwork {label:17s} mean test RMSE {score:.4f} ({est.n_iter_} epochs)")

# Zero-shot: a network for task 20 from its coefficients alone (no training rows)
X_new = np.linspace(-1, 1, 9)[:, None]
a, b, c, d = meta.iloc[20]
y_new = a * X_new[:, 0] ** 3 + b * X_new[:, 0] ** 2 + c * X_new[:, 0] + d
pred_new = est.predict_new_task(X_new, meta.iloc[20])
print(f"\nunseen task y = {a:.2f}x^3 + {b:.2f}x^2 + {c:.2f}x + {d:.2f}")
print("   x    true  zero-shot")
for x, t, p in zip(X_new[:, 0], y_new, pred_new):
    print(f"{x:5.2f} {t:7.3f} {p:7.3f}")
print(f"zero-shot RMSE {rmse(pred_new, y_new):.4f}")
