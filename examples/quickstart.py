"""Quickstart: one multi-task model on 10 real PMLB classification tasks.

Loads ten small PMLB datasets from the local cache (``SKMTL_DATA_HOME``), splits every
task 80/20 (stratified, ``random_state=0``), fits one
:class:`~skmtl.SharedVariableEmbeddingClassifier` with its defaults across all tasks, and
prints each task's test accuracy beside per-task logistic regression and random forest,
then a few rows of ``concepts_``: the variables (with their real names) each shared
embedding stands for.

Run: ``SKMTL_DATA_HOME=../shared/data python examples/quickstart.py``
"""

import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import PerTaskClassifier, SharedVariableEmbeddingClassifier, task_train_test_split
from skmtl.datasets import load_pmlb_tasks

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


def main():
    tasks, info = load_pmlb_tasks(DATASETS, min_class_count=2)
    train, test = task_train_test_split(tasks, test_size=0.2, random_state=0)
    print(f"{tasks.n_tasks} PMLB tasks from {info['cache_dir']}: rows {tasks.sizes.tolist()}")

    # the defaults: budgets (rows per step, steps per epoch) derived from the tasks, every
    # task predicting with the weights of its own best validation epoch
    model = SharedVariableEmbeddingClassifier(random_state=0)
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    columns = {"multi-task SVE": model.score_tasks(test)}
    baselines = {
        "per-task logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "per-task forest": RandomForestClassifier(n_estimators=200, random_state=0),
    }
    for name, estimator in baselines.items():
        columns[name] = PerTaskClassifier(estimator).fit(train).score_tasks(test)

    print(f"\n{'task':<26}" + "".join(f"{c:>17}" for c in columns))
    for t, task in enumerate(tasks.names):
        print(f"{task:<26}" + "".join(f"{v[t]:>17.3f}" for v in columns.values()))
    print(f"{'mean':<26}" + "".join(f"{np.mean(v):>17.3f}" for v in columns.values()))
    print(
        f"\nfit time of the multi-task model: {fit_s:.1f} s ({model.n_steps_} steps of "
        f"{model.batch_size_} rows from {model.tasks_per_step_} tasks)"
    )

    print("\nWhat two shared embeddings stand for (most similar variables, eq. 16):")
    concepts = model.concepts_
    first = concepts["shared_embedding"].unique()[:2]
    print(concepts[concepts["shared_embedding"].isin(first)].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
