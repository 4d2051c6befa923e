"""Quickstart: one multi-task model on 10 real PMLB classification tasks.

Loads ten small PMLB datasets from the local cache (``SKMTL_DATA_HOME``), splits every
task 80/20 (stratified, ``random_state=0``), fits one skmtl model across all tasks and
prints each task's test accuracy beside a per-task logistic regression.

Run: ``SKMTL_DATA_HOME=../shared/data python examples/quickstart.py``
"""

import os
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import PerTaskClassifier, task_train_test_split
from skmtl.datasets import load_pmlb_tasks

MAX_EPOCHS = int(os.environ.get("SKMTL_QUICKSTART_EPOCHS", 150))
DATASETS = [
    "iris",
    "wine_recognition",
    "breast_cancer_wisconsin",
    "glass",
    "ecoli",
    "heart_statlog",
    "pima",
    "sonar",
    "ionosphere",
    "vehicle",
]


def make_model():
    """The best skmtl estimator available for this job."""
    try:
        from skmtl import SharedVariableEmbeddingClassifier
    except ImportError:  # before the SVE estimator existed
        return "PerTaskClassifier", PerTaskClassifier(
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        )
    # the PMLB benchmark's recipe: the CPU preset, tasks drawn uniformly, and every task
    # predicting with the weights of its own best validation epoch (small tasks overfit
    # long before large ones stop improving); batches of 64 give small tasks more steps
    return "SharedVariableEmbeddingClassifier", SharedVariableEmbeddingClassifier.from_preset(
        "small",
        batch_size=64,
        early_stopping="per_task",
        max_epochs=MAX_EPOCHS,
        random_state=0,
    )


def main():
    tasks, info = load_pmlb_tasks(DATASETS, min_class_count=2)
    train, test = task_train_test_split(tasks, test_size=0.2, random_state=0)
    print(f"{tasks.n_tasks} PMLB tasks from {info['cache_dir']}: rows {tasks.sizes.tolist()}")

    name, model = make_model()
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    ours = model.score_tasks(test)

    baseline = PerTaskClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)))
    base = baseline.fit(train).score_tasks(test)

    print(f"\n{'task':<26}{name[:22]:>24}{'per-task logreg':>18}")
    for task, a, b in zip(tasks.names, ours, base):
        print(f"{task:<26}{a:>24.3f}{b:>18.3f}")
    print(f"{'mean':<26}{np.mean(ours):>24.3f}{np.mean(base):>18.3f}")
    print(f"\nfit time of {name}: {fit_s:.1f} s")


if __name__ == "__main__":
    main()
