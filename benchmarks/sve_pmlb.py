"""PMLB classification benchmark of SharedVariableEmbeddingClassifier (protocol: BENCHMARKS.md).

Datasets: every PMLB classification dataset in the local cache with fewer than 1,000 features
and fewer than 500,000 rows (159 with the shared cache); ``--subset N`` takes the N smallest by
rows. Per dataset: classes with fewer than 2 rows dropped; stratified 80/20 train/test split
(``random_state=0``); training rows capped at 20,000 by a stratified subsample
(``random_state=0``); the test set is the full 20%. The SVE models hold out a validation
split of the training part only (``validation_fraction``) for early stopping.

Models, all fitted jointly on every dataset as one multi-task problem:

* ``vanilla``      - variable embeddings without shared base (TOM), embeddings ~ N(0, 1e-3)
* ``softmax``      - shared embeddings, softmax attention (the paper's base SVE)
* ``entmax``       - shared embeddings, 1.05-entmax with learned alpha (the paper's best)
* ``stable_rank``  - shared softmax plus the stable-rank penalty, alpha_sr = 0.05
* ``entmax_mixed`` / ``entmax_task`` - (with ``--throughput``) the ``entmax`` model trained
  with the other batching mode (mixed: padded multi-task steps of ``--mixed-batch-size``
  rows from ``--tasks-per-step`` tasks; task: one sampled task per step), for the
  throughput comparison

A name ending in ``_mixed`` or ``_task`` forces that batching; the others use
``--batching``. ``--selection per_task`` fits with ``early_stopping="per_task"`` (every
dataset predicts with the weights of its own best validation epoch); ``global`` with
skorch-style early stopping on the validation loss of all rows.

beside per-task baselines on the same splits: logistic regression (standardised), random
forest (200 trees) and HistGradientBoosting.

Output: one JSON object per dataset (test accuracy of every model), one per model (wall
time, training rows/s, steps, steps and time to the best validation loss), and a summary
(mean / median test accuracy, wins against every baseline, throughput ratio, protocol).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sve_pmlb.py --subset 20 --preset small --throughput
    # the full 159-dataset run of docs/benchmarks/sve.md (58 minutes on 2 CPU cores)
    OMP_NUM_THREADS=1 python benchmarks/sve_pmlb.py --throughput --n-jobs 2 --batching mixed \
        --mixed-batch-size 1024 --tasks-per-step 32 --selection per_task \
        --steps-per-epoch 81 --steps 29808 --patience 24 --out sve.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings

import numpy as np
from _schedules import cosine_schedule


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
    p.add_argument("--models", default="vanilla,softmax,entmax,stable_rank")
    p.add_argument("--baselines", default="lr,rf,hgb")
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
    p.add_argument("--seed", type=int, default=0)
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
        metavar="JSONL",
        help="print Markdown tables of a finished run's JSON lines (from --out) and exit",
    )
    return p.parse_args(argv)


def select_datasets(subset=None, names=None):
    """Cached PMLB classification datasets under the size filter (N smallest by rows)."""
    from skmtl.datasets import get_data_home
    from skmtl.datasets.pmlb import pmlb_summary

    cache = get_data_home() / "pmlb"
    s = pmlb_summary()
    s = s[(s.task == "classification") & (s.n_features < 1000) & (s.n_instances < 500_000)]
    s = s[[(cache / n / f"{n}.tsv.gz").is_file() for n in s.dataset]]
    if names:
        wanted = names.split(",")
        return [n for n in wanted if n in set(s.dataset)]
    s = s.sort_values(["n_instances", "dataset"])
    out = s.dataset.tolist()
    return out[:subset] if subset else sorted(out)


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
        train.append((Xtr, ytr))
        test.append((Xte, yte))
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
    raise ValueError(f"unknown baseline {name!r}")


def run_baseline(name, train, test, seed):
    """Per-dataset test accuracy, wall time and the datasets fitted without early stopping.

    HistGradientBoosting stops early on a stratified internal split when a dataset has
    more than 10,000 rows; where a class has a single training row that split is
    impossible, and that dataset's model is fitted without early stopping instead.
    """
    from sklearn.base import clone

    accs, fallbacks, t0 = [], [], time.perf_counter()
    base = _baseline(name, seed)
    for i, ((Xtr, ytr), (Xte, yte)) in enumerate(zip(train, test)):
        if len(np.unique(ytr)) < 2:
            accs.append(float(np.mean(yte == ytr[0])))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                est = clone(base).fit(Xtr, ytr)
            except ValueError as exc:
                if name != "hgb" or "least populated class" not in str(exc):
                    raise
                est = clone(base).set_params(early_stopping=False).fit(Xtr, ytr)
                fallbacks.append(i)
        accs.append(float(np.mean(est.predict(Xte) == yte)))
    return np.array(accs), time.perf_counter() - t0, fallbacks


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
        def initialize(self):
            self.rows = 0
            return self

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            if training:
                self.rows += len(batch[1])

    return RowCounter()


def preset_overrides(args):
    """The preset parameters set on the command line (``--dropout``, ``--lr``)."""
    given = {"dropout": args.dropout, "lr": args.lr}
    return {k: v for k, v in given.items() if v is not None}


def run_model(name, train, test, names, args, n_epochs):
    from skmtl.sve import SharedVariableEmbeddingClassifier

    counter = _row_counter()
    params = dict(
        max_epochs=n_epochs,
        n_iter_no_change=args.patience,
        device=args.device,
        random_state=args.seed,
        callbacks=[("rows", counter)],
    )
    params["batching"] = args.batching
    params["task_sampling"] = args.task_sampling
    params["early_stopping"] = "per_task" if args.selection == "per_task" else True
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
    clf = SharedVariableEmbeddingClassifier.from_preset(args.preset, **params)
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
        "batch_size": clf.batch_size,
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
    }
    if clf.attention_ is not None:
        w = np.concatenate(clf.attention_)
        stats["attention_zero_fraction"] = round(float((w == 0).mean()), 4)
    return accs, stats, clf


def _run_job(kind, name, train, test, names, args, n_epochs):
    """One model or baseline: ``(name, per-dataset test accuracy, stats row)``."""
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if kind == "baseline":
        a, wall, fallbacks = run_baseline(name, train, test, args.seed)
        row = {"model": name, "wall_s": round(wall, 2), "mean_test_acc": round(float(a.mean()), 4)}
        if fallbacks:
            row["fitted_without_early_stopping"] = [names[i] for i in fallbacks]
        return name, a, row
    a, st, _ = run_model(name, train, test, names, args, n_epochs)
    return name, a, st


def report(lines):
    """Markdown tables (summary, size bins, per dataset) of a run's JSON lines."""
    rows = [json.loads(line) for line in lines if line.strip()]
    summary = next(r for r in rows if r["kind"] == "summary")
    stats = {r["model"]: r for r in rows if r["kind"] == "model"}
    datasets = sorted((r for r in rows if r["kind"] == "dataset"), key=lambda r: r["n_train"])
    models = list(summary["models"])
    baselines = [m for m in models if "wins" not in summary["models"][m]]
    out = ["| model | mean test acc | median | wins vs " + " / ".join(baselines) + " | wall s |"]
    out.append("|---|---:|---:|---|---:|")
    for m in models:
        r = summary["models"][m]
        wins = " / ".join(str(r["wins"].get(b, "")) for b in baselines) if "wins" in r else ""
        out.append(
            f"| {m} | {r['mean_test_acc']:.4f} | {r['median_test_acc']:.4f} | {wins} | "
            f"{r['wall_s']:.0f} |"
        )
    out += [
        "",
        "| model | epochs | steps | rows/s | steps to best | median task best epoch "
        "| alpha | stable rank |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in models:
        st = stats.get(m, {})
        if "steps" not in st:
            continue
        alpha = "" if st.get("alpha") is None else f"{st['alpha']:.2f}"
        sr = "" if st.get("stable_rank") is None else f"{st['stable_rank']:.1f}"
        med = st.get("task_best_epoch_median")
        out.append(
            f"| {m} | {st['epochs']} | {st['steps']} | {st['rows_per_s']:.0f} | "
            f"{st['steps_to_best']} | {'' if med is None else med} | {alpha} | {sr} |"
        )
    bins = [(0, 100), (100, 300), (300, 1000), (1000, 5000), (5000, None)]
    out += [
        "",
        "| training rows | datasets | " + " | ".join(models) + " |",
        "|---|---:|" + "---:|" * len(models),
    ]
    for lo, hi in bins:
        sel = [d for d in datasets if d["n_train"] >= lo and (hi is None or d["n_train"] < hi)]
        if sel:
            means = [np.mean([d["test_acc"][m] for d in sel]) for m in models]
            label = f"{lo}-{hi}" if hi else f">= {lo}"
            out.append(f"| {label} | {len(sel)} | " + " | ".join(f"{v:.3f}" for v in means) + " |")
    out += [
        "",
        "| dataset | train | test | feat | classes | " + " | ".join(models) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(models),
    ]
    for d in datasets:
        accs = " | ".join(f"{d['test_acc'][m]:.3f}" for m in models)
        out.append(
            f"| {d['dataset']} | {d['n_train']} | {d['n_test']} | {d['n_features']} | "
            f"{d['n_classes']} | {accs} |"
        )
    return "\n".join(out)


def main(argv=None):
    args = _parse(argv)
    if args.report:
        with open(args.report) as fh:
            text = report(fh)
        print(text)
        return text
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    if "SKMTL_DATA_HOME" not in os.environ and os.path.isdir(shared):
        os.environ["SKMTL_DATA_HOME"] = os.path.normpath(shared)
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from skmtl.datasets.pmlb import load_pmlb_tasks
    from skmtl.sve import PRESETS

    out_file = open(args.out, "w") if args.out else None  # noqa: SIM115

    def emit(obj):
        line = json.dumps(obj)
        print(line, flush=True)
        if out_file:
            out_file.write(line + "\n")
            out_file.flush()

    t_start = time.perf_counter()
    names = select_datasets(args.subset, args.names)
    if not names:
        raise SystemExit("no PMLB dataset selected: is SKMTL_DATA_HOME set to the data folder?")
    tasks, _ = load_pmlb_tasks(names, min_class_count=2)
    train, test = split_tasks(tasks, args.max_train, seed=0)
    n_train = [len(y) for _, y in train]

    n_epochs, steps_per_epoch = epoch_budget(args, n_train, PRESETS[args.preset]["batch_size"])

    models = [m for m in args.models.split(",") if m]
    other = "entmax_mixed" if args.batching == "task" else "entmax_task"
    if args.throughput and other not in models:
        models.insert(0, other)
        if "entmax" not in models:
            models.insert(0, "entmax")
    baselines = [m for m in args.baselines.split(",") if m]

    accs, stats = {}, {}
    # the networks first (the longest jobs), then the baselines
    jobs = [("model", m) for m in models] + [("baseline", m) for m in baselines]
    if args.n_jobs > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=args.n_jobs, backend="loky", return_as="generator")(
            delayed(_run_job)(kind, m, train, test, names, args, n_epochs) for kind, m in jobs
        )
    else:
        results = (_run_job(kind, m, train, test, names, args, n_epochs) for kind, m in jobs)
    for m, a, st in results:
        accs[m], stats[m] = a, st
        emit({"kind": "model", **st})

    for i, name in enumerate(names):
        emit(
            {
                "kind": "dataset",
                "dataset": name,
                "n_train": int(n_train[i]),
                "n_test": len(test[i][1]),
                "n_features": int(train[i][0].shape[1]),
                "n_classes": int(len(np.unique(tasks.ys[i]))),
                "test_acc": {m: round(float(a[i]), 4) for m, a in accs.items()},
            }
        )

    summary = {"kind": "summary", "models": {}}
    for m in [*baselines, *models]:
        row = {
            "mean_test_acc": round(float(np.mean(accs[m])), 4),
            "median_test_acc": round(float(np.median(accs[m])), 4),
            "wall_s": stats[m]["wall_s"],
        }
        if m in models:
            row["wins"] = {b_: int(np.sum(accs[m] > accs[b_])) for b_ in baselines}
            row["ties"] = {b_: int(np.sum(accs[m] == accs[b_])) for b_ in baselines}
            row["wall_ratio_vs_hgb"] = (
                round(stats[m]["wall_s"] / stats["hgb"]["wall_s"], 2) if "hgb" in stats else None
            )
            for k in ("rows_per_s", "steps", "steps_to_best", "time_to_best_s", "alpha"):
                row[k] = stats[m][k]
        summary["models"][m] = row
    m_task, m_mixed = ("entmax", other) if args.batching == "task" else (other, "entmax")
    if m_task in stats and m_mixed in stats:
        summary["throughput"] = {
            "mixed_over_task_rows_per_s": round(
                stats[m_mixed]["rows_per_s"] / stats[m_task]["rows_per_s"], 2
            ),
            "task_rows_per_s": stats[m_task]["rows_per_s"],
            "mixed_rows_per_s": stats[m_mixed]["rows_per_s"],
            "task_acc": summary["models"][m_task]["mean_test_acc"],
            "mixed_acc": summary["models"][m_mixed]["mean_test_acc"],
        }
    import sklearn
    import skorch

    summary["protocol"] = {
        "datasets": len(names),
        "selection": (
            f"{args.subset} smallest by rows" if args.subset else (args.names or "all (159)")
        ),
        "filter": "PMLB classification, < 1000 features, < 500000 rows, classes >= 2 rows",
        "split": "stratified 80/20, random_state=0; train capped at "
        f"{args.max_train} (stratified, random_state=0); validation 10% of train",
        "preset": args.preset,
        "preset_params": {**PRESETS[args.preset], **preset_overrides(args)},
        "batching": args.batching,
        "task_sampling": args.task_sampling,
        "model_selection": args.selection,
        "mixed_batch_size": args.mixed_batch_size or PRESETS[args.preset]["batch_size"],
        "mixed_tasks_per_step": args.tasks_per_step,
        "max_epochs": n_epochs,
        "steps_per_epoch": steps_per_epoch,
        "patience": args.patience,
        "lr_schedule": args.lr_schedule,
        "seed": args.seed,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "n_jobs": args.n_jobs,
        "total_wall_s": round(time.perf_counter() - t_start, 1),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "skorch": skorch.__version__,
            "numpy": np.__version__,
        },
        "command": "python " + " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
    }
    emit(summary)
    if out_file:
        out_file.close()
    return summary


if __name__ == "__main__":
    main()
