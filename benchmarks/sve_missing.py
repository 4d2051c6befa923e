"""Missing values in SVE: masking a missing value out of the set vs per-task mean imputation.

Protocol (reduced; fixed in advance, nothing chosen on test rows):

* Datasets: the ``--subset`` smallest (by rows) cached PMLB classification datasets with at
  least 100 rows and at most 20 features (ties broken by name); classes with fewer than 2
  rows dropped.
* Per dataset: stratified 75/25 train/test split (``random_state=0``); then ``--fraction``
  (30 %) of all feature values, train and test alike, removed completely at random
  (``--seed``, independently per entry).
* Models, both the same ``small``-preset SVE (softmax attention) fitted jointly on all
  datasets, ``--epochs`` epochs, early stopping on a validation split of the training rows
  (``validation_fraction=0.2``), same seed:

  - ``mask``: the tables with NaN; a missing value is an absent variable, masked out of
    the pooled sum (no imputation);
  - ``mean_impute``: every task's NaN replaced by that task's training-column mean
    (``PerTaskTransformer(SimpleImputer())``), then the same SVE.

Output: one JSON row per dataset (test accuracy of both), a summary (mean accuracy, wins,
wall time of each, environment with the load average).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/sve_missing.py --subset 8 --out miss.jsonl
"""

from __future__ import annotations

import argparse
import time

import _common
import numpy as np


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subset", type=int, default=8, help="number of datasets")
    p.add_argument("--fraction", type=float, default=0.3, help="share of values removed")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0, help="removal and model seed")
    p.add_argument("--out", default=None, help="also write the JSON rows here")
    return p.parse_args(argv)


def select_datasets(n):
    """The ``n`` smallest cached PMLB classification datasets (100+ rows, <= 20 features)."""
    from skmtl.datasets import get_data_home
    from skmtl.datasets.pmlb import _cached_names, pmlb_summary

    s = pmlb_summary()
    cached = _cached_names(get_data_home() / "pmlb")
    s = s[(s["task"] == "classification") & s["dataset"].isin(cached)]
    s = s[(s["n_instances"] >= 100) & (s["n_features"] <= 20)]
    return s.sort_values(["n_instances", "dataset"])["dataset"].head(n).tolist()


def make_splits(names, fraction, seed):
    """Train and test tasks with ``fraction`` of the feature values set to NaN."""
    from sklearn.model_selection import train_test_split

    from skmtl import Tasks
    from skmtl.datasets import load_pmlb_tasks

    tasks, _ = load_pmlb_tasks(names, min_class_count=2)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for X, y in tasks.items():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
        for part, (Xp, yp) in ((train, (Xtr, ytr)), (test, (Xte, yte))):
            Xp = Xp.copy()
            Xp[rng.random(Xp.shape) < fraction] = np.nan
            part.append((Xp, yp))
    make = lambda pairs: Tasks([p[0] for p in pairs], [p[1] for p in pairs], names=tasks.names)  # noqa: E731
    return make(train), make(test)


def run(model, train, test, label, emit):
    start = time.perf_counter()
    model.fit(train)
    wall = time.perf_counter() - start
    if hasattr(model, "steps"):  # a Pipeline: transform the test tasks, score the model
        test, model = model[:-1].transform(test), model[-1]
    scores = model.score_tasks(test)
    emit({"model": label, "wall_s": round(wall, 2), "epochs": _epochs(model)})
    return scores, wall


def _epochs(model):
    final = model[-1] if hasattr(model, "steps") else model
    return int(final.n_iter_)


def main(argv=None):
    args = _parse(argv)
    threads = _common.pin_threads()
    from sklearn.base import clone
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    from skmtl.preprocessing import PerTaskTransformer
    from skmtl.sve import SharedVariableEmbeddingClassifier

    names = select_datasets(args.subset)
    train, test = make_splits(names, args.fraction, args.seed)
    sve = SharedVariableEmbeddingClassifier.from_preset(
        "small",
        max_epochs=args.epochs,
        validation_fraction=0.2,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=args.seed,
    )
    with _common.JsonEmitter(args.out) as emit:
        masked, wall_mask = run(sve, train, test, "mask", emit)
        imputed, wall_imp = run(
            make_pipeline(PerTaskTransformer(SimpleImputer(strategy="mean")), clone(sve)),
            train,
            test,
            "mean_impute",
            emit,
        )
        for t, name in enumerate(names):
            emit(
                {
                    "dataset": name,
                    "train_rows": int(train.sizes[t]),
                    "features": int(train.n_features[t]),
                    "mask": round(float(masked[t]), 4),
                    "mean_impute": round(float(imputed[t]), 4),
                }
            )
        emit(
            {
                "summary": True,
                "datasets": names,
                "mean_accuracy": {
                    "mask": round(float(np.mean(masked)), 4),
                    "mean_impute": round(float(np.mean(imputed)), 4),
                },
                "wins_mask": int(np.sum(masked > imputed)),
                "ties": int(np.sum(masked == imputed)),
                "wins_mean_impute": int(np.sum(masked < imputed)),
                "wall_s": {"mask": round(wall_mask, 1), "mean_impute": round(wall_imp, 1)},
                "protocol": {
                    "fraction_removed": args.fraction,
                    "split": "stratified 75/25, random_state=0",
                    "model": "SVE small preset, softmax, early stopping on 20% of train",
                    "epochs": args.epochs,
                    "seed": args.seed,
                },
                "environment": _common.environment(threads=threads),
            }
        )


if __name__ == "__main__":
    main()
