"""PMLB classification benchmark of SharedVariableEmbeddingClassifier (protocol: BENCHMARKS.md).

Datasets: every PMLB classification dataset in the local cache that the loader's own size filter
keeps (:func:`skmtl.datasets.load_pmlb_tasks`: fewer than 1,000 features and 500,000 rows; 159
with the shared cache); ``--subset N`` takes the N smallest by rows. Per dataset and split seed
``s`` (``--split-seeds``, default 0; the reported protocol is 0,1,2): classes with fewer than 2
rows dropped; stratified 80/20 train/test split (``random_state=s``); training rows capped at
20,000 by a stratified subsample (``random_state=s``); the test set is the full 20%. Every
choice an SVE model makes (early stopping, per-task selection) uses a validation split of
the training part only (``validation_fraction``); test rows are scored once.

Models, all fitted jointly on every dataset as one multi-task problem:

* ``default``      - ``SharedVariableEmbeddingClassifier()`` with its defaults (its budgets
  derived from the data at fit time); ignores the recipe flags below
* ``vanilla``      - variable embeddings without shared base (TOM), embeddings ~ N(0, 1e-3)
* ``softmax``      - shared embeddings, softmax attention (the paper's base SVE)
* ``entmax``       - shared embeddings, 1.05-entmax with learned alpha (the paper's best)
* ``stable_rank``  - shared softmax plus the stable-rank penalty, alpha_sr = 0.05
* ``entmax_mixed`` / ``entmax_task`` - (with ``--throughput``) the ``entmax`` model trained
  with the other batching mode (mixed: padded multi-task steps of ``--mixed-batch-size``
  rows from ``--tasks-per-step`` tasks; task: one sampled task per step), for the
  throughput comparison

The models other than ``default`` follow ``--preset`` and the recipe flags; a name ending in
``_mixed`` or ``_task`` forces that batching, the others use ``--batching``.
``--selection per_task`` fits with ``early_stopping="per_task"`` (every dataset predicts with
the weights of its own best validation epoch); ``global`` with skorch-style early stopping on
the validation loss of all rows.

Per-task baselines on the same splits, each through :class:`skmtl.PerTaskClassifier`:
logistic regression (standardised), random forest (200 trees), HistGradientBoosting, and with
the ``bench`` extra (``pip install -e ".[bench]"``) LightGBM, XGBoost and CatBoost with
library defaults (one thread each).

Output: one JSON object per (split seed, dataset) with the test accuracy of every model, one per
(split seed, model) with wall time, training rows/s, steps and steps to the best validation
loss, and a summary: per model the mean over split seeds of the mean (and median) test
accuracy with its standard error, wins against every baseline, accuracy per size bin, and the
environment (:func:`_common.environment`).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sve_pmlb.py --subset 20 --models default
    # the reported protocol: all 159 datasets, split seeds 0, 1, 2
    OMP_NUM_THREADS=1 python benchmarks/sve_pmlb.py --models default --split-seeds 0,1,2 \
        --baselines lr,rf,hgb,lgbm,xgb,catboost --n-jobs 2 --out sve.jsonl
    # the earlier benchmark recipe (test-selected, see docs/benchmarks/sve.md)
    OMP_NUM_THREADS=1 python benchmarks/sve_pmlb.py --models entmax --batching mixed \
        --mixed-batch-size 1024 --tasks-per-step 32 --selection per_task \
        --steps-per-epoch 81 --steps 29808 --patience 24
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
import warnings

import _common  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from _common import JsonEmitter, environment, pin_threads
from _schedules import cosine_schedule

#: baselines fitted per task, by command-line name
BASELINES = ("lr", "rf", "hgb", "lgbm", "xgb", "catboost")
#: the protocol's size bins, in training rows
SIZE_BINS = [(0, 100), (100, 1000), (1000, 10_000), (10_000, None)]


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subset", type=int, default=None, help="the N smallest datasets by rows")
    p.add_argument("--names", default=None, help="comma-separated dataset names instead")
    p.add_argument("--preset", default="small", choices=["small", "paper"])
    p.add_argument("--max-epochs", type=int, default=200)
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="cap on optimizer steps per model (converted to epochs); default: --max-epochs",
    )
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience (epochs)")
    p.add_argument(
        "--models",
        default="default",
        help="comma-separated: default (SharedVariableEmbeddingClassifier() as a user calls it), "
        "refine (the defaults with refine_epochs=--refine-epochs), or a recipe model ("
        + ", ".join(MODEL_PARAMS)
        + ") built from the recipe flags",
    )
    p.add_argument(
        "--refine-epochs", type=int, default=100, help="refine_epochs of the refine model"
    )
    p.add_argument("--baselines", default="lr,rf,hgb", help="among " + ",".join(BASELINES))
    p.add_argument(
        "--split-seeds",
        default="0",
        help="comma-separated split seeds; the protocol reports the mean over 0,1,2",
    )
    p.add_argument(
        "--throughput", action="store_true", help="also fit entmax with the other batching"
    )
    p.add_argument("--batching", default="task", choices=["task", "mixed"])
    p.add_argument("--selection", default="global", choices=["global", "per_task"])
    p.add_argument(
        "--task-sampling", default="uniform", choices=["uniform", "proportional", "sqrt"]
    )
    p.add_argument(
        "--mixed-batch-size",
        type=int,
        default=None,
        help="rows per step of the mixed-batch model (default: the preset's batch size)",
    )
    p.add_argument(
        "--tasks-per-step",
        type=int,
        default=None,
        help="distinct tasks per step of the mixed-batch model (default: every row's task "
        "drawn independently)",
    )
    p.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="training steps per epoch of every SVE model (default: one pass over the rows); "
        "validation and per-task selection happen after every epoch, and --steps then counts "
        "optimizer steps",
    )
    p.add_argument(
        "--dropout", type=float, default=None, help="dropout of every SVE model (default: preset)"
    )
    p.add_argument(
        "--lr", type=float, default=None, help="learning rate of every SVE model (default: preset)"
    )
    p.add_argument(
        "--lr-schedule",
        default="constant",
        choices=["constant", "cosine"],
        help="learning rate of every SVE model: constant, or a cosine decay to lr / 100 over "
        "the epoch budget (stepped once per epoch)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0, help="model seed (weights, batches)")
    p.add_argument("--max-train", type=int, default=20_000)
    p.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="models and baselines fitted side by side in this many processes (one thread each)",
    )
    p.add_argument("--out", default=None, help="also write the JSON lines to this file")
    p.add_argument(
        "--report",
        default=None,
        nargs="+",
        metavar="JSONL",
        help="print Markdown tables of finished runs' JSON lines (from --out) and exit; "
        "several files (e.g. one per split seed, or models and baselines run apart) are "
        "merged by (split seed, dataset) and summarised over the split seeds they share",
    )
    return p.parse_args(argv)


def load_datasets(subset=None, names=None):
    """The benchmark's datasets as a :class:`~skmtl.Tasks` (classes with < 2 rows dropped).

    ``names``: those datasets; otherwise every cached dataset the loader's size filter keeps,
    the ``subset`` smallest by rows (ties by name) when given.
    """
    from skmtl.datasets.pmlb import load_pmlb_tasks
    from skmtl.tasks import Tasks

    if names:
        tasks, _ = load_pmlb_tasks(names.split(","), min_class_count=2)
        return tasks
    tasks, _ = load_pmlb_tasks(None, min_class_count=2)
    if not subset:
        return tasks
    order = sorted(range(tasks.n_tasks), key=lambda t: (tasks.sizes[t], tasks.names[t]))[:subset]
    order = sorted(order, key=lambda t: tasks.names[t])
    return Tasks(
        [tasks.Xs[t] for t in order],
        [tasks.ys[t] for t in order],
        names=[tasks.names[t] for t in order],
        feature_names=[tasks.feature_names[t] for t in order],
    )


def split_tasks(tasks, max_train, seed=0):
    """Stratified 80/20 split per task, training rows capped by a stratified subsample."""
    from sklearn.model_selection import train_test_split

    train, test = [], []
    for X, y in zip(tasks.Xs, tasks.ys):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        try:
            Xtr, Xte, ytr, yte = train_test_split(
                X, y, test_size=0.2, stratify=y, random_state=seed
            )
        except ValueError:  # too many classes for a stratified 20% of a tiny dataset
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed)
        if len(ytr) > max_train:
            Xtr, _, ytr, _ = train_test_split(
                Xtr, ytr, train_size=max_train, stratify=ytr, random_state=seed
            )
        classes = np.unique(ytr)  # labels as 0..K-1 (XGBoost needs it); unseen test labels -1
        code = {c: i for i, c in enumerate(classes.tolist())}
        train.append((Xtr, np.searchsorted(classes, ytr)))
        test.append((Xte, np.array([code.get(v, -1) for v in yte.tolist()])))
    return train, test


def epoch_budget(args, n_train, batch_size):
    """``(max_epochs, steps per epoch)`` of the SVE models.

    ``--steps`` is converted to epochs: with ``--steps-per-epoch`` it counts optimizer
    steps; without, it counts one-task steps of the preset's batch size (a ``"task"``
    epoch has ``sum(ceil(0.9 n_t / batch_size))`` steps), whatever the batching.
    """
    task_epoch = sum(math.ceil(n * 0.9 / batch_size) for n in n_train)
    steps_per_epoch = args.steps_per_epoch or task_epoch
    if not args.steps:
        return args.max_epochs, steps_per_epoch
    return max(1, math.ceil(args.steps / steps_per_epoch)), steps_per_epoch


def step_rows(args, batching):
    """Rows per training step of an SVE model with ``batching``: ``--mixed-batch-size``
    for mixed steps when given, else the preset's batch size."""
    from skmtl.sve import PRESETS

    if batching == "mixed" and args.mixed_batch_size:
        return args.mixed_batch_size
    return PRESETS[args.preset]["batch_size"]


def epoch_shape(args, n_epochs, batch_size):
    """``steps_per_epoch``, ``max_epochs`` and patience of a model of ``batch_size`` rows.

    ``--steps-per-epoch`` is set for the run's own batching (``--mixed-batch-size`` rows
    per step with ``--batching mixed``). A model of another step size (the other mode of
    ``--throughput``) keeps the rows per epoch, and so the share of time spent
    validating, and the optimizer steps of the whole fit, so its rows/s compare fairly.
    """
    if not args.steps_per_epoch:
        return {"steps_per_epoch": None, "max_epochs": n_epochs, "n_iter_no_change": args.patience}
    spe = max(1, round(args.steps_per_epoch * step_rows(args, args.batching) / batch_size))
    ratio = args.steps_per_epoch / spe
    return {
        "steps_per_epoch": spe,
        "max_epochs": max(1, math.ceil(n_epochs * ratio)),
        "n_iter_no_change": max(1, math.ceil(args.patience * ratio)),
    }


def _baseline(name, seed):
    """A per-task baseline with library defaults (one thread)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "lr":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "rf":
        return RandomForestClassifier(n_estimators=200, n_jobs=1, random_state=seed)
    if name == "hgb":
        return HistGradientBoostingClassifier(random_state=seed)
    if name == "lgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1)
    if name == "xgb":
        from xgboost import XGBClassifier

        return XGBClassifier(random_state=seed, n_jobs=1)
    if name == "catboost":
        from catboost import CatBoostClassifier

        return CatBoostClassifier(random_seed=seed, thread_count=1, verbose=0)
    raise ValueError(f"unknown baseline {name!r}; choose from {BASELINES}")


def _hgb_cannot_stop_early(y):
    """HistGradientBoosting stops early (> 10,000 rows) on a stratified internal split,
    impossible when a class has a single training row."""
    return len(y) > 10_000 and np.unique(y, return_counts=True)[1].min() < 2


def run_baseline(name, train, test, seed):
    """Per-dataset test accuracy, wall time and the datasets fitted without early stopping.

    Every baseline is a :class:`~skmtl.PerTaskClassifier` (one clone per dataset). For
    HistGradientBoosting, the datasets where its early-stopping split is impossible (see
    :func:`_hgb_cannot_stop_early`) are fitted by a second one without early stopping.
    """
    from sklearn.base import clone

    from skmtl import PerTaskClassifier

    t0 = time.perf_counter()
    base = _baseline(name, seed)
    plain = [name == "hgb" and _hgb_cannot_stop_early(y) for _, y in train]
    groups = [(base, [i for i, p in enumerate(plain) if not p])]
    if any(plain):
        groups.append((clone(base).set_params(early_stopping=False), list(np.flatnonzero(plain))))
    accs = np.zeros(len(train))
    for estimator, idx in groups:
        if not idx:
            continue
        clf = PerTaskClassifier(estimator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit([train[i] for i in idx])
            preds = clf.predict([test[i][0] for i in idx])
        # CatBoost predicts multi-class labels as a column (n, 1): compare flat labels
        accs[idx] = [float(np.mean(np.ravel(p) == test[i][1])) for p, i in zip(preds, idx)]
    return accs, time.perf_counter() - t0, [int(i) for i in np.flatnonzero(plain)]


MODEL_PARAMS = {
    "vanilla": dict(n_shared=None),
    "softmax": dict(attention="softmax"),
    "entmax": dict(attention="entmax", alpha=1.05, learn_alpha=True),
    "stable_rank": dict(attention="softmax", stable_rank_weight=0.05),
    "entmax_mixed": dict(attention="entmax", alpha=1.05, learn_alpha=True, batching="mixed"),
    "entmax_task": dict(attention="entmax", alpha=1.05, learn_alpha=True, batching="task"),
}


def _row_counter():
    from skorch.callbacks import Callback

    class RowCounter(Callback):
        """Training rows of every stage of a fit, and each stage's per-task selection."""

        def __init__(self):
            self.rows = 0  # kept across stages (``initialize`` runs again at each)
            self.selections = []

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            if training:
                self.rows += len(batch[1])

        def on_train_end(self, net, **kwargs):
            cb = dict(net.callbacks_).get("per_task_checkpoint")
            if cb is not None and cb.best_epoch_ is not None:
                self.selections.append((cb.best_epoch_.copy(), dict(cb.snapshots_)))

    return RowCounter()


def joint_stage_predictions(clf, selection, X):
    """Predictions of a refined fit with the joint stage's per-task selection."""
    import torch

    from skmtl._selection import TaskSnapshots

    snaps = TaskSnapshots(*selection)
    kept_snaps, kept_state = clf._task_snapshots, copy.deepcopy(clf.module_.state_dict())
    try:
        clf._task_snapshots = snaps
        with torch.no_grad():
            clf.module_.load_state_dict(snaps.snapshots[snaps.default_epoch])
        return clf.predict(X)
    finally:
        clf._task_snapshots = kept_snaps
        clf.module_.load_state_dict(kept_state)


def preset_overrides(args):
    """The preset parameters set on the command line (``--dropout``, ``--lr``)."""
    given = {"dropout": args.dropout, "lr": args.lr}
    return {k: v for k, v in given.items() if v is not None}


def model_estimator(name, args, n_epochs, callbacks=()):
    """The unfitted SVE model ``name`` of this run."""
    from skmtl.sve import SharedVariableEmbeddingClassifier

    common = dict(device=args.device, random_state=args.seed, callbacks=list(callbacks))
    if name == "default":
        return SharedVariableEmbeddingClassifier(**common)
    if name == "refine":  # the defaults with a per-task refinement stage
        return SharedVariableEmbeddingClassifier(refine_epochs=args.refine_epochs, **common)
    params = dict(max_epochs=n_epochs, n_iter_no_change=args.patience, **common)
    params["batching"] = args.batching
    params["task_sampling"] = args.task_sampling
    params["early_stopping"] = "per_task" if args.selection == "per_task" else True
    params["tasks_per_step"] = None
    params.update(MODEL_PARAMS[name])
    params.update(preset_overrides(args))
    params["batch_size"] = step_rows(args, params["batching"])
    if params["batching"] == "mixed":
        params["tasks_per_step"] = args.tasks_per_step
    params.update(epoch_shape(args, n_epochs, params["batch_size"]))
    if args.lr_schedule == "cosine":
        from skmtl.sve import PRESETS

        lr = params.get("lr", PRESETS[args.preset]["lr"])
        schedule = cosine_schedule(lr, params["max_epochs"])
        params["callbacks"] = [*params["callbacks"], ("lr_schedule", schedule)]
    return SharedVariableEmbeddingClassifier.from_preset(args.preset, **params)


def run_model(name, train, test, names, args, n_epochs):
    counter = _row_counter()
    clf = model_estimator(name, args, n_epochs, callbacks=[("rows", counter)])
    from skmtl.tasks import Tasks

    tr = Tasks([x for x, _ in train], [y for _, y in train], names=names)
    t0 = time.perf_counter()
    clf.fit(tr)
    wall = time.perf_counter() - t0
    preds = clf.predict([x for x, _ in test])
    accs = np.array([float(np.mean(p == y)) for p, (_, y) in zip(preds, test)])
    dur = [float(h.get("dur", 0.0)) for h in clf.history_]
    best = clf.best_epoch_ or len(dur)
    stats = {
        "model": name,
        "batching": clf.batching,
        "batch_size": clf.batch_size_,
        "tasks_per_step": clf.tasks_per_step_,
        "steps_per_epoch": clf.steps_per_epoch_,
        "early_stopping": clf.early_stopping,
        "wall_s": round(wall, 2),
        "train_rows": int(counter.rows),
        "rows_per_s": round(counter.rows / wall, 1),
        "epochs": int(clf.n_iter_),
        "steps": int(clf.n_steps_),
        "best_epoch": int(best),
        "steps_to_best": clf.n_steps_to_best_,
        "time_to_best_s": round(sum(dur[:best]), 2),
        "task_best_epoch_median": (
            None if clf.task_best_epoch_ is None else float(np.median(clf.task_best_epoch_))
        ),
        "alpha": clf.alpha_,
        "stable_rank": None if clf.stable_rank_ is None else round(clf.stable_rank_, 3),
        "mean_test_acc": round(float(accs.mean()), 4),
        "refine_epochs": int(getattr(clf, "n_refine_epochs_", 0)),
        "refined_tasks": (None if clf.refined_tasks_ is None else int(np.sum(clf.refined_tasks_))),
    }
    if clf.attention_ is not None:
        w = np.concatenate(clf.attention_)
        stats["attention_zero_fraction"] = round(float((w == 0).mean()), 4)
    rows = [(name, accs, stats)]
    if stats["refine_epochs"] and counter.selections:
        # the same fit without its refinement stage: the joint stage's per-task selection
        joint = joint_stage_predictions(clf, counter.selections[0], [x for x, _ in test])
        joint_accs = np.array([float(np.mean(p == y)) for p, (_, y) in zip(joint, test)])
        rows.append(
            (
                f"{name}_joint",
                joint_accs,
                {
                    "model": f"{name}_joint",
                    "wall_s": round(wall - sum(dur[len(dur) - stats["refine_epochs"] :]), 2),
                    "mean_test_acc": round(float(joint_accs.mean()), 4),
                    "note": f"{name} without its refinement stage (same fit, joint selection)",
                },
            )
        )
    return rows, clf


def _run_job(kind, name, train, test, names, args, n_epochs):
    """One model or baseline: ``(name, per-dataset test accuracy, stats row)``."""
    pin_threads()
    if kind == "baseline":
        a, wall, fallbacks = run_baseline(name, train, test, args.seed)
        row = {"model": name, "wall_s": round(wall, 2), "mean_test_acc": round(float(a.mean()), 4)}
        if fallbacks:
            row["fitted_without_early_stopping"] = [names[i] for i in fallbacks]
        return [(name, a, row)]
    rows, _ = run_model(name, train, test, names, args, n_epochs)
    return rows


def _bin_label(lo, hi):
    return f"{lo}-{hi}" if hi else f"> {lo}"


def summarise(accs, stats, n_train, baselines, models, seeds):
    """Per model: mean over seeds of the mean / median test accuracy, standard error, wins,
    per-bin accuracy and wall time. ``accs[seed][model]`` is the per-dataset accuracy."""
    out = {}
    n_train = np.asarray(n_train, dtype=float)  # (seeds, datasets)
    for m in [*baselines, *models]:
        a = np.array([accs[s][m] for s in seeds])  # (seeds, datasets)
        means = a.mean(1)
        se = float(means.std(ddof=1) / np.sqrt(len(seeds))) if len(seeds) > 1 else None
        row = {
            "mean_test_acc": round(float(means.mean()), 4),
            "se": None if se is None else round(se, 4),
            "per_seed": [round(float(v), 4) for v in means],
            "median_test_acc": round(float(np.median(a, axis=1).mean()), 4),
            "wall_s": round(float(np.mean([stats[s][m]["wall_s"] for s in seeds])), 1),
            "bins": {},
        }
        for lo, hi in SIZE_BINS:
            sel = (n_train >= lo) & (n_train < (hi or np.inf))
            if sel.any():
                row["bins"][_bin_label(lo, hi)] = {
                    "datasets": int(sel[0].sum()),
                    "acc": round(float(a[sel].mean()), 4),
                }
        if m in models:
            row["wins"] = {
                b: round(
                    float(
                        np.mean([np.sum(a[k] > np.array(accs[s][b])) for k, s in enumerate(seeds)])
                    ),
                    1,
                )
                for b in baselines
            }
            row["losses"] = {
                b: round(
                    float(
                        np.mean([np.sum(a[k] < np.array(accs[s][b])) for k, s in enumerate(seeds)])
                    ),
                    1,
                )
                for b in baselines
            }
            for k in ("rows_per_s", "steps", "steps_to_best", "batch_size", "steps_per_epoch"):
                row[k] = stats[seeds[0]][m].get(k)
        out[m] = row
    return out


def merge_runs(runs):
    """JSON rows of several runs as one run: dataset and model rows joined, re-summarised.

    ``runs`` is a list of lists of rows (one per ``--out`` file). Dataset rows of the same
    (split seed, dataset) are joined (their ``test_acc`` dicts merged), model rows kept;
    the summary is recomputed (:func:`summarise`) over the split seeds on which every model
    has a result, so a model measured on fewer seeds leaves the others' seeds out: such a
    model should be reported from its own file.

    Examples
    --------
    >>> a = [{"kind": "dataset", "split_seed": 0, "dataset": "d", "n_train": 50,
    ...       "test_acc": {"lr": 0.5}}, {"kind": "model", "split_seed": 0, "model": "lr",
    ...       "wall_s": 1.0}]
    >>> b = [{"kind": "dataset", "split_seed": 0, "dataset": "d", "n_train": 50,
    ...       "test_acc": {"default": 1.0}}, {"kind": "model", "split_seed": 0,
    ...       "model": "default", "wall_s": 9.0, "steps": 3}]
    >>> rows = merge_runs([a, b])
    >>> rows[-1]["models"]["default"]["wins"]
    {'lr': 1.0}
    """
    per, stats = {}, {}
    for rows in runs:
        for r in rows:
            if r["kind"] == "dataset":
                key = (r["split_seed"], r["dataset"])
                per.setdefault(key, {**r, "test_acc": {}})["test_acc"].update(r["test_acc"])
            elif r["kind"] == "model":
                stats.setdefault(r["split_seed"], {})[r["model"]] = r
    names = sorted({d for _, d in per})
    all_models = {m for acc in (v["test_acc"] for v in per.values()) for m in acc}
    seeds = sorted(
        s
        for s in stats
        if all(m in per.get((s, d), {}).get("test_acc", {}) for m in all_models for d in names)
    )
    if not seeds:
        raise ValueError(
            "no split seed on which every model has a result; report the files separately"
        )
    baselines = [m for m in BASELINES if m in all_models]
    models = sorted(all_models - set(baselines))
    accs = {s: {m: [per[(s, d)]["test_acc"][m] for d in names] for m in all_models} for s in seeds}
    n_train = [[per[(s, d)]["n_train"] for d in names] for s in seeds]
    summary = {
        "kind": "summary",
        "models": summarise(accs, stats, n_train, baselines, models, seeds),
    }
    return [per[(s, d)] for s in seeds for d in names] + [summary]


def report(lines, more=()):
    """Markdown tables (summary, size bins, per dataset) of a run's JSON lines.

    ``more``: the lines of further runs, merged with :func:`merge_runs`.
    """
    rows = [json.loads(line) for line in lines if line.strip()]
    if more:
        others = [[json.loads(line) for line in m if line.strip()] for m in more]
        rows = merge_runs([rows, *others])
    summary = next(r for r in rows if r["kind"] == "summary")
    datasets = [r for r in rows if r["kind"] == "dataset"]
    models = list(summary["models"])
    baselines = [m for m in models if "wins" not in summary["models"][m]]
    out = [
        "| model | mean test acc | SE over seeds | median | wins / losses vs "
        + " / ".join(baselines)
        + " | wall s |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for m in models:
        r = summary["models"][m]
        wins = ""
        if "wins" in r:
            wins = " / ".join(f"{r['wins'][b]:g}-{r['losses'][b]:g}" for b in baselines)
        se = "" if r.get("se") is None else f"{r['se']:.4f}"
        out.append(
            f"| {m} | {r['mean_test_acc']:.4f} | {se} | {r['median_test_acc']:.4f} | {wins} | "
            f"{r['wall_s']:.0f} |"
        )
    bins = list(next(iter(summary["models"].values()))["bins"])
    out += ["", "| training rows | datasets | " + " | ".join(models) + " |"]
    out.append("|---|---:|" + "---:|" * len(models))
    for b in bins:
        first = summary["models"][models[0]]["bins"][b]
        vals = " | ".join(f"{summary['models'][m]['bins'][b]['acc']:.3f}" for m in models)
        out.append(f"| {b} | {first['datasets']} | {vals} |")
    per = {}
    for d in datasets:
        per.setdefault(d["dataset"], []).append(d)
    out += ["", "| dataset | train | feat | classes | " + " | ".join(models) + " |"]
    out.append("|---|---:|---:|---:|" + "---:|" * len(models))
    for name, ds in sorted(per.items(), key=lambda kv: kv[1][0]["n_train"]):
        accs = " | ".join(f"{np.mean([d['test_acc'][m] for d in ds]):.3f}" for m in models)
        d = ds[0]
        out.append(f"| {name} | {d['n_train']} | {d['n_features']} | {d['n_classes']} | {accs} |")
    return "\n".join(out)


def run_seed(seed, tasks, args, models, baselines, emit):
    """Every model and baseline on split seed ``seed``: per-dataset accuracy, stats rows."""
    train, test = split_tasks(tasks, args.max_train, seed=seed)
    names = list(tasks.names)
    n_train = [len(y) for _, y in train]
    from skmtl.sve import PRESETS

    n_epochs, _ = epoch_budget(args, n_train, PRESETS[args.preset]["batch_size"])
    fitted = [m for m in models if not m.endswith("_joint")]  # *_joint come with their fit
    jobs = [("model", m) for m in fitted] + [("baseline", m) for m in baselines]
    if args.n_jobs > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=args.n_jobs, backend="loky", return_as="generator")(
            delayed(_run_job)(kind, m, train, test, names, args, n_epochs) for kind, m in jobs
        )
    else:
        results = (_run_job(kind, m, train, test, names, args, n_epochs) for kind, m in jobs)
    accs, stats = {}, {}
    for rows in results:
        for m, a, st in rows:
            accs[m], stats[m] = a.tolist(), st
            emit({"kind": "model", "split_seed": seed, **st})
    for i, name in enumerate(names):
        emit(
            {
                "kind": "dataset",
                "split_seed": seed,
                "dataset": name,
                "n_train": int(n_train[i]),
                "n_test": len(test[i][1]),
                "n_features": int(train[i][0].shape[1]),
                "n_classes": int(len(np.unique(tasks.ys[i]))),
                "test_acc": {m: round(float(a[i]), 4) for m, a in accs.items()},
            }
        )
    return accs, stats, n_train


def main(argv=None):
    args = _parse(argv)
    if args.report:
        runs = []
        for path in args.report:
            with open(path) as fh:
                runs.append(fh.readlines())
        text = report(runs[0], runs[1:])
        print(text)
        return text
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    if "SKMTL_DATA_HOME" not in os.environ and os.path.isdir(shared):
        os.environ["SKMTL_DATA_HOME"] = os.path.normpath(shared)
    threads = pin_threads()
    t_start = time.perf_counter()
    tasks = load_datasets(args.subset, args.names)
    if not tasks.n_tasks:
        raise SystemExit("no PMLB dataset selected: is SKMTL_DATA_HOME set to the data folder?")
    models = [m for m in args.models.split(",") if m]
    other = "entmax_mixed" if args.batching == "task" else "entmax_task"
    if args.throughput and other not in models:
        models.insert(0, other)
        if "entmax" not in models:
            models.insert(0, "entmax")
    if "refine" in models:  # the same fit without its refinement stage, reported beside it
        models.insert(models.index("refine") + 1, "refine_joint")
    baselines = [m for m in args.baselines.split(",") if m]
    seeds = [int(v) for v in args.split_seeds.split(",")]

    accs, stats, sizes = {}, {}, []
    with JsonEmitter(args.out) as emit:
        for seed in seeds:
            accs[seed], stats[seed], n_train = run_seed(seed, tasks, args, models, baselines, emit)
            sizes.append(n_train)
        summary = {
            "kind": "summary",
            "models": summarise(accs, stats, sizes, baselines, models, seeds),
        }
        summary["protocol"] = {
            "datasets": tasks.n_tasks,
            "selection": (
                f"{args.subset} smallest by rows" if args.subset else (args.names or "all")
            ),
            "filter": "load_pmlb_tasks: PMLB classification in the cache, < 1000 features, "
            "< 500000 rows; classes with < 2 rows dropped",
            "split": f"stratified 80/20, split seeds {seeds}; train capped at {args.max_train} "
            "(stratified); SVE validation: 10% of train",
            "size_bins": "training rows",
            "model_seed": args.seed,
            "recipe_flags": {
                "preset": args.preset,
                "preset_overrides": preset_overrides(args),
                "batching": args.batching,
                "task_sampling": args.task_sampling,
                "selection": args.selection,
                "mixed_batch_size": args.mixed_batch_size,
                "tasks_per_step": args.tasks_per_step,
                "steps": args.steps,
                "steps_per_epoch": args.steps_per_epoch,
                "patience": args.patience,
                "lr_schedule": args.lr_schedule,
            },
            "n_jobs": args.n_jobs,
            "total_wall_s": round(time.perf_counter() - t_start, 1),
        }
        summary["environment"] = environment(device=args.device, threads_pinned=threads)
        emit(summary)
    return summary


if __name__ == "__main__":
    main()
