"""Multi-Task Hypernetworks on Cubic and Robot Arm (protocol: ../shared/BENCHMARKS.md).

Reproduces the analogues of Tables 2-4 of "Multi-Task Learning with Hypernetworks and
Task Metadata" plus zero-shot rows (a network generated from metadata alone for tasks
never seen in training), and prints one JSON object per result row and a summary.

Per dataset and seed: ``n_tasks`` training tasks (+ ``--zero-shot-tasks`` held-out tasks
from the same generator call), every task split 60/20/20 into train / validation (early
stopping, inside ``fit``) / test rows; Cubic has 10 training rows per task and Robot Arm
20 (the paper's Table 1). Metric: mean over tasks of the task's test RMSE (all target
columns pooled), and the same with MSE (see docs/benchmarks/hypernet.md: the numbers the
paper prints as "RMSE" match MSE).

Examples
--------
Quick check::

    OMP_NUM_THREADS=1 python benchmarks/hypernet.py --seeds 2 --tables 2 --max-epochs 200

Training follows the paper's tuning protocol (Section 3): the feature-extractor depth is
chosen from {0, 1, 2} per dataset, with and without metadata, by mean validation loss on
``--select-seeds`` selection seeds (1000, 1001, ...; never evaluation seeds); every
network uses Adam with a cosine learning-rate decay, with the learning rate and epoch
budget of ``RECIPE``.

Full run (docs/benchmarks/hypernet.md; Table 2 over 10 seeds, Tables 3-4 over 5, two
processes)::

    OMP_NUM_THREADS=1 python benchmarks/hypernet.py --out hn.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import skorch  # noqa: E402
import torch  # noqa: E402
from _schedules import cosine_schedule  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import KFold, cross_val_predict  # noqa: E402

from skmtl.baselines.per_task import PerTaskRegressor  # noqa: E402
from skmtl.baselines.pooled import PooledScalingMixin, SingleNetworkRegressor  # noqa: E402
from skmtl.datasets.synthetic import make_cubic_tasks, make_robot_arm_tasks  # noqa: E402
from skmtl.hypernet import MultiTaskHypernetRegressor  # noqa: E402

try:  # issue 6 (hard sharing) may not be merged yet
    from skmtl.hard_sharing import HardSharingRegressor  # noqa: E402
except ImportError:  # pragma: no cover
    HardSharingRegressor = None

# train / validation / test rows per task (60/20/20; 10 and 20 training rows)
SIZES = {"cubic": (10, 3, 4), "robot_arm": (20, 7, 7)}
GENERATORS = {"cubic": make_cubic_tasks, "robot_arm": make_robot_arm_tasks}
# training recipe per dataset: (learning rate, max_epochs, early-stopping patience in
# epochs). Cubic has 4 steps per epoch and needs a long, slow cosine tail to fit its
# polynomials closely: lr 1e-3 (the paper's grid) over 3,000 epochs was chosen on the
# selection seeds 1000-1009 (docs/benchmarks/hypernet.md), never on evaluation seeds.
RECIPE = {"cubic": (1e-3, 3000, 600), "robot_arm": (3e-3, 500, 100)}
# the paper's grid for the depth of the hypernetwork feature extractor (Section 3)
HYPER_LAYERS_GRID = (0, 1, 2)
SELECTION_SEED_OFFSET = 1000  # selection seeds never overlap the evaluation seeds
# the paper's Table 2 and 3 values (the last is the "MT Hypernet" with metadata)
PAPER = {
    "cubic": {
        "stl_naive": 0.624,
        "stl": 0.132,
        "stl_meta": 0.030,
        "hard_sharing": 0.040,
        "hard_sharing_meta": 0.034,
        "hypernet": 0.122,
        "hypernet_meta": 0.023,
    },
    "robot_arm": {
        "stl_naive": 0.559,
        "stl": 0.547,
        "stl_meta": 0.469,
        "hard_sharing": 0.596,
        "hard_sharing_meta": 0.598,
        "hypernet": 0.485,
        "hypernet_meta": 0.467,
    },
}


if HardSharingRegressor is not None:

    class PooledHardSharingRegressor(PooledScalingMixin, HardSharingRegressor):
        """Hard sharing with the same pooled scaling as the other models of this run."""

        scaling = "pooled"


def make_data(dataset, seed, n_tasks, n_new):
    n_tr, n_va, n_te = SIZES[dataset]
    tasks, meta = GENERATORS[dataset](n_tasks + n_new, n_tr + n_va + n_te, random_state=seed)
    rng = np.random.default_rng(seed)
    fit, test = [], []
    for X, y in tasks:
        perm = rng.permutation(len(X))
        fit.append((X[perm[: n_tr + n_va]], y[perm[: n_tr + n_va]]))
        test.append((X[perm[n_tr + n_va :]], y[perm[n_tr + n_va :]]))
    return {
        "fit": fit[:n_tasks],
        "test": test[:n_tasks],
        "meta": meta.iloc[:n_tasks],
        "new_test": test[n_tasks:],
        "new_meta": meta.iloc[n_tasks:],
        # validation_fraction giving exactly n_va validation rows (floor in the split)
        "val_frac": (n_va + 0.5) / (n_tr + n_va),
    }


def task_errors(preds, tasks):
    rmse, mse = [], []
    for p, (_, y) in zip(preds, tasks):
        err = np.mean((np.asarray(p).reshape(len(y), -1) - np.asarray(y).reshape(len(y), -1)) ** 2)
        mse.append(err)
        rmse.append(np.sqrt(err))
    return float(np.mean(rmse)), float(np.mean(mse))


def inside_range_errors(preds, tasks, fit_tasks):
    """Test RMSE on the rows whose inputs lie inside the task's training input range.

    A ReLU network extrapolates linearly, so a cubic's test point outside the range of
    its task's 13 fitting rows (about one in six) can carry most of the error. Returns
    the mean over tasks of the inside-range RMSE and the share of test rows outside.
    """
    rmse, outside = [], []
    for p, (X, y), (X_fit, _) in zip(preds, tasks, fit_tasks):
        X = np.asarray(X, dtype=float)
        inside = np.all((X >= X_fit.min(axis=0)) & (X <= X_fit.max(axis=0)), axis=1)
        outside.append(1.0 - inside.mean())
        if inside.any():
            err = (
                np.asarray(p).reshape(len(y), -1)[inside]
                - np.asarray(y).reshape(len(y), -1)[inside]
            )
            rmse.append(np.sqrt(np.mean(err**2)))
    return float(np.mean(rmse)), float(np.mean(outside))


def with_metadata(tasks, meta):
    """The naive use of metadata: constant metadata columns appended to every row."""
    values = meta.to_numpy()
    return [(np.hstack([X, np.tile(m, (len(X), 1))]), y) for (X, y), m in zip(tasks, values)]


def budget(dataset, args):
    """``(lr, max_epochs, patience)`` for a dataset: the command line's, else ``RECIPE``."""
    lr, max_epochs, patience = RECIPE[dataset]
    return args.lr or lr, args.max_epochs or max_epochs, args.patience or patience


def build(method, args, seed, val_frac, dataset, hyper_layers=1):
    lr, max_epochs, patience = budget(dataset, args)
    callbacks = None
    if args.schedule == "cosine":
        # cosine decay from lr to lr / 100 over the epoch budget, for every network
        callbacks = [("lr_schedule", cosine_schedule(lr, max_epochs))]
    train = dict(
        lr=lr,
        max_epochs=max_epochs,
        batch_size=64,
        batching="mixed",
        validation_fraction=val_frac,
        n_iter_no_change=patience,
        callbacks=callbacks,
        random_state=seed,
    )
    hn = dict(hyper_layers=hyper_layers, **train)
    if method.startswith("hypernet"):
        variants = {
            "no_compression": dict(compress=False),
            "no_feature_extractor": dict(hyper_layers=0),
            "no_embeddings": dict(use_embeddings=False),
        }
        extra = next((v for k, v in variants.items() if k in method), {})
        return MultiTaskHypernetRegressor(**{**hn, **extra})
    if method == "stl_naive":
        return SingleNetworkRegressor(task_encoding="none", **train)
    if method == "stl":
        return SingleNetworkRegressor(task_encoding="onehot", **train)
    if method == "stl_meta":
        return SingleNetworkRegressor(task_encoding="metadata", **train)
    if method.startswith("hard_sharing"):
        train = {**train, "batch_size": 64}
        return PooledHardSharingRegressor(
            hidden_layer_sizes=(32, 32),
            latent_dim=32,
            head_hidden_sizes=(),
            heads="multi",
            **train,
        )
    if method == "per_task_rf":
        return PerTaskRegressor(RandomForestRegressor(n_estimators=50, random_state=seed))
    raise ValueError(method)


def uses_metadata(method):
    """Whether a result row's model is given task metadata."""
    return method.endswith("_meta") or method in (
        "hypernet_no_embeddings",
        "hypernet_shuffled_meta",
        "hypernet_meta_hidden",
    )


def run_job(dataset, seed, method, args, hide=None, hyper_layers=1, stage="evaluation"):
    torch.set_num_threads(1)
    data = make_data(dataset, seed, args.n_tasks, args.zero_shot_tasks)
    fit, test, meta = data["fit"], data["test"], data["meta"]
    uses_meta = uses_metadata(method) or hide is not None
    fit_meta = meta
    if method == "hypernet_shuffled_meta":
        rng = np.random.default_rng(seed + 1000)
        fit_meta = meta.apply(lambda c: rng.permutation(c.to_numpy()))
    if hide is not None:
        fit_meta = meta.drop(columns=[hide])
    est = build(method, args, seed, data["val_frac"], dataset, hyper_layers)
    t0 = time.perf_counter()
    if method.startswith("hard_sharing_meta"):
        est.fit(with_metadata(fit, meta))
        preds = est.predict([X for X, _ in with_metadata(test, meta)])
    elif method.startswith("hypernet") or method.startswith("stl"):
        est.fit(fit, metadata=fit_meta if uses_meta else None)
        preds = est.predict([X for X, _ in test])
    else:
        est.fit(fit)
        preds = est.predict([X for X, _ in test])
    fit_s = time.perf_counter() - t0
    rmse, mse = task_errors(preds, test)
    rmse_inside, outside = inside_range_errors(preds, test, fit)
    row = {
        "dataset": dataset,
        "seed": seed,
        "method": method,
        "metadata": uses_meta,
        "rmse": rmse,
        "mse": mse,
        "rmse_inside_range": rmse_inside,
        "test_rows_outside_range": outside,
        "fit_s": fit_s,
        "epochs": int(getattr(est, "n_iter_", 0)),
    }
    if method.startswith("hypernet"):
        row["hyper_layers"] = est.hyper_layers
    if hasattr(est, "history_"):
        row["valid_loss"] = float(min(est.history_[:, "valid_loss"]))
    if stage != "evaluation":
        row["stage"] = stage
        return row
    if hasattr(est, "n_parameters_"):
        row["n_parameters"] = est.n_parameters_
    # zero-shot: held-out tasks from metadata alone
    if hide is None and data["new_test"] and method in ("hypernet_meta", "stl_meta", "stl_naive"):
        zs = [
            est.predict_new_task(X, m)
            for (X, _), m in zip(data["new_test"], data["new_meta"].to_numpy())
        ]
        row["zero_shot_rmse"], row["zero_shot_mse"] = task_errors(zs, data["new_test"])
    # Table 4: predict the hidden metadata feature from the learned embeddings
    if hide is not None:
        E = est.task_embeddings_
        target = meta[hide].to_numpy()
        cv = KFold(n_splits=min(10, len(target)), shuffle=True, random_state=seed)
        rf = RandomForestRegressor(random_state=seed)
        pred = cross_val_predict(rf, E, target, cv=cv)
        fold_r2 = [
            r2_score(target[te], rf.fit(E[tr], target[tr]).predict(E[te])) for tr, te in cv.split(E)
        ]
        row.update(
            hidden=hide, r2=float(r2_score(target, pred)), r2_mean_fold=float(np.mean(fold_r2))
        )
    return row


def hyper_layers_for(method, dataset, chosen):
    """Feature-extractor depth of a hypernetwork row: 0 for its ablation, else the
    depth selected for the dataset with (or without) metadata."""
    if method.startswith("hypernet_no_feature_extractor"):
        return 0
    return chosen.get((dataset, uses_metadata(method)), 1)


def evaluation_seeds(args):
    """The seeds of Table 2; Tables 3 and 4 use the first ``--ablation-seeds``."""
    return args.seed_list if args.seed_list else list(range(args.seeds))


def repeats_main_fit(method, dataset, chosen):
    """Whether a Table 3 ablation is the main row's fit: no feature extractor where
    depth 0 was selected."""
    return (
        method.startswith("hypernet_no_feature_extractor")
        and chosen.get((dataset, uses_metadata(method))) == 0
    )


def selection_plan(args):
    """Fits that choose the feature-extractor depth on validation loss (seeds >= 1000)."""
    if args.hyper_layers is not None:
        return []
    return [
        (dataset, SELECTION_SEED_OFFSET + k, method, None, hl, "selection")
        for dataset in args.datasets
        for method in ("hypernet_meta", "hypernet")
        for hl in HYPER_LAYERS_GRID
        for k in range(args.select_seeds)
    ]


def select_hyper_layers(rows, args):
    """Per dataset and metadata setting, the depth with the lowest mean validation loss.

    Returns ``chosen`` ``{(dataset, uses_meta): depth}`` and the mean validation losses.
    """
    if args.hyper_layers is not None:
        chosen = {(d, m): args.hyper_layers for d in args.datasets for m in (True, False)}
        return chosen, {}
    losses = {}
    for r in rows:
        key = (r["dataset"], r["metadata"], r["hyper_layers"])
        losses.setdefault(key, []).append(r["valid_loss"])
    chosen, report = {}, {}
    for d in args.datasets:
        for m in (True, False):
            means = {hl: float(np.mean(losses[(d, m, hl)])) for hl in HYPER_LAYERS_GRID}
            chosen[(d, m)] = min(means, key=lambda hl: (means[hl], hl))
            report[f"{d}/{'metadata' if m else 'no_metadata'}"] = {
                "mean_valid_loss": {str(hl): round(v, 5) for hl, v in means.items()},
                "hyper_layers": chosen[(d, m)],
            }
    return chosen, report


def plan(args, chosen=None):
    """Table 2 for every seed first (seed-major), then the ablations and Table 4.

    Jobs are ``(dataset, seed, method, hidden_column, hyper_layers, stage)``. An
    ablation whose configuration equals the main row (no feature extractor when the
    selected depth is 0) is not fitted again: ``duplicate_rows`` copies the main row.
    """
    chosen = chosen or {}
    jobs = []
    t2 = ["hypernet_meta", "hypernet", "stl_meta", "stl", "stl_naive", "per_task_rf"]
    if HardSharingRegressor is not None:
        t2 += ["hard_sharing", "hard_sharing_meta"]
    t3 = [
        "hypernet_no_compression_meta",
        "hypernet_no_compression",
        "hypernet_no_feature_extractor_meta",
        "hypernet_no_feature_extractor",
        "hypernet_no_embeddings",
        "hypernet_shuffled_meta",
    ]
    seeds = evaluation_seeds(args)

    def job(dataset, seed, method, hide=None):
        hl = hyper_layers_for(method, dataset, chosen) if method.startswith("hypernet") else 1
        return (dataset, seed, method, hide, hl, "evaluation")

    if "2" in args.tables:
        for seed in seeds:
            for dataset in args.datasets:
                jobs += [job(dataset, seed, m) for m in t2]
    for seed in seeds[: args.ablation_seeds]:
        for dataset in args.datasets:
            if "3" in args.tables:
                jobs += [
                    job(dataset, seed, m)
                    for m in t3
                    if not ("2" in args.tables and repeats_main_fit(m, dataset, chosen))
                ]
            if "4" in args.tables:
                cols = list(GENERATORS[dataset](1, 1, random_state=0)[1].columns)
                jobs += [job(dataset, seed, "hypernet_meta_hidden", c) for c in cols]
    return jobs


def duplicate_rows(rows, args, chosen):
    """Table 3 rows equal to a main row (depth 0 selected), labelled as the ablation."""
    if "3" not in args.tables or "2" not in args.tables:
        return []
    seeds = evaluation_seeds(args)[: args.ablation_seeds]
    out = []
    for r in rows:
        if r["method"] not in ("hypernet", "hypernet_meta") or r["seed"] not in seeds:
            continue
        name = r["method"].replace("hypernet", "hypernet_no_feature_extractor")
        if r.get("hyper_layers") == 0 and repeats_main_fit(name, r["dataset"], chosen):
            copy = {k: v for k, v in r.items() if not k.startswith("zero_shot")}
            out.append({**copy, "method": name, "same_fit_as": r["method"]})
    return out


def summarize(rows, args, wall, selection=None):
    rows = [r for r in rows if r.get("stage", "evaluation") == "evaluation"]

    def stat(values):
        v = np.asarray(values, dtype=float)
        se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
        return float(v.mean()), se, len(v)

    table = {}
    for r in rows:
        key = (r["dataset"], r["method"] if r.get("hidden") is None else f"hide_{r['hidden']}")
        table.setdefault(key, []).append(r)
    out = {}
    for (dataset, method), rs in sorted(table.items()):
        entry = {}
        for metric in (
            "rmse",
            "mse",
            "rmse_inside_range",
            "test_rows_outside_range",
            "zero_shot_rmse",
            "zero_shot_mse",
            "r2",
            "r2_mean_fold",
            "fit_s",
            "epochs",
        ):
            vals = [r[metric] for r in rs if metric in r]
            if vals:
                m, se, n = stat(vals)
                entry[metric] = [round(m, 4), round(se, 4)]
                entry["n_seeds"] = n
        if method in PAPER.get(dataset, {}):
            entry["paper_value"] = PAPER[dataset][method]
        out.setdefault(dataset, {})[method] = entry
    # improvement from metadata (paired by seed)
    for dataset in out:
        for base in ("hypernet", "stl", "hard_sharing"):
            a = {r["seed"]: r for r in rows if r["dataset"] == dataset and r["method"] == base}
            b = {
                r["seed"]: r
                for r in rows
                if r["dataset"] == dataset
                and r["method"] == ("stl_meta" if base == "stl" else base + "_meta")
            }
            common = sorted(set(a) & set(b))
            if common:
                for metric in ("rmse", "mse"):
                    m, se, n = stat([a[s][metric] - b[s][metric] for s in common])
                    out[dataset].setdefault("improvement_from_metadata", {})[f"{base}_{metric}"] = [
                        round(m, 4),
                        round(se, 4),
                    ]
    # fit-time ratios against STL-naive in the same run
    for dataset in out:
        ref = out[dataset].get("stl_naive", {}).get("fit_s")
        if ref:
            for e in out[dataset].values():
                if isinstance(e, dict) and "fit_s" in e:
                    e["fit_time_ratio_vs_stl_naive"] = round(e["fit_s"][0] / ref[0], 2)
    return {
        "summary": out,
        "protocol": {
            "datasets": args.datasets,
            "tasks": args.n_tasks,
            "zero_shot_tasks": args.zero_shot_tasks,
            "rows_per_task_train_val_test": {d: SIZES[d] for d in args.datasets},
            "split": "per task 60/20/20 random (numpy default_rng(seed)); validation part "
            "used for early stopping inside fit (best weights restored)",
            "seeds": args.seeds,
            "ablation_seeds": min(args.ablation_seeds, args.seeds),
            "tables": args.tables,
            "training": {
                "optimizer": "adam",
                "lr": {d: budget(d, args)[0] for d in args.datasets},
                "lr_schedule": "cosine to lr/100 over max_epochs"
                if args.schedule == "cosine"
                else "constant",
                "batch_size": 64,
                "batching": "mixed (random rows of all tasks)",
                "max_epochs_patience": {d: budget(d, args)[1:] for d in args.datasets},
                "scaling": "inputs and targets standardised with statistics pooled over tasks",
                "hyper_layers": args.hyper_layers
                if args.hyper_layers is not None
                else f"selected from {list(HYPER_LAYERS_GRID)} per dataset and metadata "
                f"setting by mean validation loss over {args.select_seeds} selection seeds "
                f"({SELECTION_SEED_OFFSET}+)",
                "hyper_layers_selection": selection or {},
                "embedding_dim": 10,
                "target_network": [32, 32, 32],
            },
            "metric": "mean over tasks of per-task test RMSE (and MSE) on the original "
            "target scale; mean and standard error over seeds. rmse_inside_range: the "
            "same on the test rows whose inputs lie inside the range of the task's "
            "fitting rows; test_rows_outside_range: the share of test rows outside",
            "table4": "hide one metadata column, fit with the rest, RandomForestRegressor "
            "(default) predicts it from task_embeddings_; R^2 of 10-fold "
            "cross_val_predict over tasks (r2) and mean per-fold R^2 (r2_mean_fold)",
            "hard_sharing": None
            if HardSharingRegressor is None
            else "skmtl.hard_sharing.HardSharingRegressor trunk (32, 32) -> 32, "
            "linear head per task, pooled scaling; metadata appended to X",
            "device": "cpu",
            "n_jobs": args.n_jobs,
            "wall_s": round(wall, 1),
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "skorch": skorch.__version__,
                "sklearn": sklearn.__version__,
            },
            "machine": f"{os.cpu_count()} logical CPUs (shared), OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS')}",
        },
    }


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--datasets", nargs="+", default=["cubic", "robot_arm"], choices=list(SIZES))
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument(
        "--seed-list",
        type=int,
        nargs="+",
        default=None,
        help="explicit seeds instead of 0..seeds-1 (to split a run over processes)",
    )
    p.add_argument("--ablation-seeds", type=int, default=5, help="seeds for Tables 3 and 4")
    p.add_argument(
        "--tables",
        nargs="+",
        default=["2", "3", "4"],
        choices=["2", "3", "4"],
        help="2: main (+ zero-shot rows), 3: ablations, 4: embedding analysis",
    )
    p.add_argument("--n-tasks", type=int, default=20)
    p.add_argument("--zero-shot-tasks", type=int, default=5)
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: RECIPE)")
    p.add_argument(
        "--max-epochs", type=int, default=None, help="epoch budget (default: RECIPE per dataset)"
    )
    p.add_argument(
        "--patience", type=int, default=None, help="early-stopping patience (default: RECIPE)"
    )
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    p.add_argument(
        "--hyper-layers",
        type=int,
        default=None,
        help="feature-extractor depth; default: selected on validation loss",
    )
    p.add_argument(
        "--select-seeds", type=int, default=2, help="seeds of the depth selection per candidate"
    )
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out", type=str, default=None, help="also append JSON rows to this file")
    p.add_argument(
        "--summarize",
        type=str,
        default=None,
        help="only print the summary of the rows already in this JSON-lines file",
    )
    args = p.parse_args(argv)
    if args.summarize:
        with open(args.summarize) as fh:
            rows = [json.loads(line) for line in fh if '"method"' in line[:200]]
        selected = [r for r in rows if r.get("stage") == "selection"]
        selection = select_hyper_layers(selected, args)[1] if selected else None
        summary = summarize(rows, args, float("nan"), selection)
        summary["protocol"]["rows_file"] = args.summarize
        print(json.dumps(summary))
        return summary

    t0 = time.perf_counter()
    sink = open(args.out, "a") if args.out else None  # noqa: SIM115

    def emit(row):
        line = json.dumps(row)
        print(line, flush=True)
        if sink:
            sink.write(line + "\n")
            sink.flush()

    def execute(jobs):
        out = []
        results = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
            delayed(run_job)(d, s, m, args, h, hl, st) for d, s, m, h, hl, st in jobs
        )
        for row in results:
            out.append(row)
            emit(row)
        return out

    # the paper tunes the feature-extractor depth on validation data (Section 3)
    selected = execute(selection_plan(args))
    chosen, selection = select_hyper_layers(selected, args)
    rows = execute(plan(args, chosen))
    for row in duplicate_rows(rows, args, chosen):
        rows.append(row)
        emit(row)
    summary = summarize(rows, args, time.perf_counter() - t0, selection)
    line = json.dumps(summary)
    print(line, flush=True)
    if sink:
        sink.write(line + "\n")
        sink.close()
    return summary


if __name__ == "__main__":
    main()
