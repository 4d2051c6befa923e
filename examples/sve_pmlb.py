"""Shared variable embeddings on a few PMLB tasks: accuracy, concepts and attention.

Fits one :class:`~skmtl.sve.SharedVariableEmbeddingClassifier` (1.05-entmax attention with a
learned alpha, the CPU-sized "small" preset) jointly on several PMLB classification datasets
from the local cache, prints per-task test accuracy next to a per-task random forest, the
``concepts_`` table for a few shared embeddings, the shared embeddings used by the most tasks
(Appendix G), and saves the attention heat map to ``$SKMTL_EXAMPLE_OUT`` (default: the
system's temporary folder).

Run from the repository root (data in ``../shared/data`` or ``$SKMTL_DATA_HOME``)::

    OMP_NUM_THREADS=1 python examples/sve_pmlb.py
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from skmtl.datasets import load_pmlb_tasks
from skmtl.sve import SharedVariableEmbeddingClassifier

shared = Path(__file__).resolve().parents[2] / "shared" / "data"
if "SKMTL_DATA_HOME" not in os.environ and shared.is_dir():
    os.environ["SKMTL_DATA_HOME"] = str(shared)

NAMES = [
    "iris",
    "wine_recognition",
    "breast_cancer_wisconsin",
    "prnn_synth",
    "monk1",
    "haberman",
    "glass",
    "ecoli",
]
tasks, _ = load_pmlb_tasks(NAMES, min_class_count=2)

rng = np.random.default_rng(0)
train, test = [], []
for X, y in zip(tasks.Xs, tasks.ys):
    X = np.asarray(X)
    idx = rng.permutation(len(y))
    cut = int(0.8 * len(y))
    train.append((X[idx[:cut]], y[idx[:cut]]))
    test.append((X[idx[cut:]], y[idx[cut:]]))

clf = SharedVariableEmbeddingClassifier.from_preset(
    "small",
    attention="entmax",
    alpha=1.05,
    learn_alpha=True,
    max_epochs=150,
    n_iter_no_change=20,
    random_state=0,
)
# Tasks keep the PMLB variable names, so concepts_ lists real variables
from skmtl.tasks import Tasks  # noqa: E402

clf.fit(
    Tasks(
        [x for x, _ in train],
        [y for _, y in train],
        names=tasks.names,
        feature_names=tasks.feature_names,
    )
)

acc = clf.score_tasks([x for x, _ in test], [y for _, y in test])
print(f"{'task':28s} {'SVE':>6s} {'RF':>6s}")
for name, a, (Xtr, ytr), (Xte, yte) in zip(tasks.names, acc, train, test):
    rf = RandomForestClassifier(200, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    print(f"{name:28s} {a:6.3f} {rf:6.3f}")
print(f"mean SVE test accuracy: {acc.mean():.3f}")
print(
    f"alpha learned: {clf.alpha_:.3f}; stable rank of S: {clf.stable_rank_:.2f}; "
    f"zero attention weights: {np.mean(np.concatenate(clf.attention_) == 0):.1%}"
)

print("\nconcepts_ (K=5 most similar variables, eq. 16) for 3 shared embeddings:")
for p in rng.choice(clf.shared_embeddings_.shape[0], size=3, replace=False):
    print(clf.concepts_[clf.concepts_.shared_embedding == p].to_string(index=False))
    print()

print("most commonly shared embeddings (Appendix G, attention > 0.1):")
print(clf.commonly_shared(threshold=0.1, n_embeddings=3, n_tasks=3).to_string(index=False))

try:
    import matplotlib

    matplotlib.use("Agg")
    ax = clf.plot_attention()
    out = Path(os.environ.get("SKMTL_EXAMPLE_OUT", tempfile.gettempdir())) / "sve_attention.png"
    ax.figure.savefig(out, dpi=120, bbox_inches="tight")
    print(f"\nattention plot saved to {out.resolve()}")
except ImportError:
    print("matplotlib not installed: no plot")
