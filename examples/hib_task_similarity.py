"""Task similarity from learned noise variances on Grouped-MNIST.

Four tasks, each asking "which of these digits is it, or none of them?", for the digit groups
of the paper's Figure 2: [2, 9, 4], [2, 9, 0], [8, 7, 3], [8, 7, 5]. Tasks sharing two digits
should read the same latent dimensions, so their noise log-variances are close (eq. 11) and
agglomerative clustering puts them together.

    SKMTL_DATA_HOME=../shared/data OMP_NUM_THREADS=1 python examples/hib_task_similarity.py

Runs in about half a minute on one CPU core; saves the heatmap to ``hib_task_similarity.png``
(or the path given as first argument).
"""

import sys

import numpy as np

from skmtl.datasets.mnist import load_mnist, make_grouped_mnist_tasks
from skmtl.hib import HierarchicalIBClassifier

groups = [[2, 9, 4], [2, 9, 0], [8, 7, 3], [8, 7, 5]]
names = [str(g) for g in groups]

X, y = load_mnist()  # the 10,000 test images of the shared cache (all 70,000 if present)
perm = np.random.RandomState(0).permutation(len(X))
train, test = perm[:6000], perm[8000:]
train_tasks = make_grouped_mnist_tasks(groups, X[train], y[train], as_tasks=True)
test_tasks = make_grouped_mnist_tasks(groups, X[test], y[test], as_tasks=True)

clf = HierarchicalIBClassifier(
    latent_dim=4,
    beta=0.1,
    scale_inputs=False,  # pixels stay in [0, 1]
    lr=3e-3,
    batch_size=256,
    max_epochs=16,  # every step holds rows of all four tasks (batching='mixed')
    early_stopping=False,
    validation_fraction=0.0,
    random_state=0,
)
clf.fit(train_tasks)

accuracy = clf.score_tasks(test_tasks)
print("test accuracy per task:", {n: round(float(a), 3) for n, a in zip(names, accuracy)})
print("\nnoise log-variances (rows: tasks, columns: latent dimensions)")
for name, row in zip(names, clf.noise_log_var_):
    print(f"  {name:>10}", np.array2string(row, precision=2, suppress_small=True))
print("\ntask dissimilarity (eq. 11, L1 distance of noise log-variances)")
print(np.array2string(clf.task_dissimilarity_, precision=2, suppress_small=True))
labels = clf.cluster_tasks(n_clusters=2)
print("\nclusters:", {name: int(label) for name, label in zip(names, labels)})

try:
    import matplotlib

    matplotlib.use("Agg")
    fig = clf.plot_task_similarity(names)
    path = sys.argv[1] if len(sys.argv) > 1 else "hib_task_similarity.png"
    fig.savefig(path, dpi=80)
    print("saved", path)
except ImportError:
    print("matplotlib is not installed: no figure")
