"""Multi-Task Hypernetworks on the paper's four datasets, with its protocol.

Analogues of Tables 2-4 and Figures 4-5 of "Multi-Task Learning with Hypernetworks and
Task Metadata" on the authors' published data (``load_hypernet_tasks``), plus zero-shot
rows (networks generated from metadata alone for tasks never seen in training). Prints
one JSON object per fit and a summary with the protocol (docs/benchmarks/hypernet.md).

Protocol (the authors' ``get_data``; ``hypernet_paper_split``): Cubic and Robot Arm use
their first 20 tasks with 10 and 20 train+validation rows per task and every other row
as test; Chlorophyll uses every lake with 10 train+validation rows (a lake with 10 or
fewer keeps them all and has no test rows: the paper's Table 1 N = 796 is exactly the sum
over lakes of min(rows, 10)); Algorithms uses every task, 60/20/20. Each seed draws its
own split. A quarter of the fitting rows is validation (early stopping, best weights kept).
Metric: pooled MSE of the un-normalised targets over all test rows (what the paper's
Table 2 prints, labelled RMSE); ``rmse`` is its square root.

Selection (validation only, never test rows): for every dataset and method the learning
rate (the paper's grid ``--lrs``) and, for the hypernetwork, the feature-extractor depth
(``--depths``) are chosen by mean best validation loss over the selection seeds
(``--select-seeds``, seeds 1000, 1001, ...; not evaluation seeds), with and without
metadata independently.

Full run (the design; docs/benchmarks/hypernet.md gives its cost projected from measured
CPU seconds, about 62 minutes on 2 dedicated cores, and the reduced run that was made)::

    OMP_NUM_THREADS=1 python benchmarks/hypernet.py --out hn.jsonl --plot hn.png

Quick check::

    python benchmarks/hypernet.py --datasets cubic --seeds 1 --select-seeds 1 \\
        --lrs 1e-3 --depths 1 --tables 2 --max-passes 20
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from _common import JsonEmitter, environment, pin_threads
from joblib import Parallel, delayed
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, cross_val_predict

from skmtl.baselines import (
    CrossStitchRegressor,
    HardSharingRegressor,
    SingleNetworkRegressor,
    SluiceRegressor,
)
from skmtl.baselines.pooled import PooledScalingMixin
from skmtl.datasets import load_hypernet_tasks
from skmtl.hypernet import MultiTaskHypernetRegressor
from skmtl.model_selection import hypernet_paper_split

DATASETS = ("cubic", "chlorophyll", "algorithms", "robot_arm")  # the paper's column order
# (training tasks, train+validation rows per task or None for 60/20/20, zero-shot tasks)
PROTOCOL = {
    "cubic": (20, 10, 10),
    "robot_arm": (20, 20, 10),
    "algorithms": (None, None, 0),
    "chlorophyll": (None, 10, 0),
}
LR_GRID = (1e-3, 10**-3.5, 1e-4, 10**-4.5)  # the paper's grid (Appendix D)
DEPTH_GRID = (0, 1, 2)
SELECTION_SEED_OFFSET = 1000
MAIN = ("stl_naive", "stl", "hard_sharing", "cross_stitch", "sluice", "hypernet")
ABLATIONS = (
    "hypernet_no_compression",
    "hypernet_no_compression_meta",
    "hypernet_no_feature_extractor",
    "hypernet_no_feature_extractor_meta",
    "hypernet_no_embeddings_meta",
    "hypernet_shuffled_meta",
)
# The paper's Tables 2 and 3 (columns Cubic, Chlorophyll, Algorithms, Robot Arm; MSE,
# labelled RMSE there). Cubic's metadata ablations are missing from the text we have.
_P = {
    "stl_naive": (0.624, 0.521, 1.950, 0.559),
    "stl": (0.132, 0.512, 1.465, 0.547),
    "hard_sharing": (0.040, 0.851, 1.553, 0.596),
    "cross_stitch": (0.057, 0.554, 1.387, 0.624),
    "sluice": (0.064, 0.534, 1.447, 0.540),
    "hypernet": (0.122, 0.411, 1.397, 0.485),
    "stl_meta": (0.030, 0.489, 1.607, 0.469),
    "hard_sharing_meta": (0.034, 0.973, 1.520, 0.598),
    "cross_stitch_meta": (0.032, 0.543, 1.325, 0.624),
    "sluice_meta": (0.038, 0.559, 1.403, 0.546),
    "hypernet_meta": (0.023, 0.395, 1.307, 0.467),
    "hypernet_no_compression": (0.103, 0.493, 1.555, 0.656),
    "hypernet_no_feature_extractor": (0.122, 0.413, 1.421, 0.485),
    "hypernet_no_compression_meta": (None, 0.619, 1.935, 0.528),
    "hypernet_no_feature_extractor_meta": (None, 0.470, 1.342, 0.474),
    "hypernet_no_embeddings_meta": (None, 0.434, 1.460, 0.467),
    "hypernet_shuffled_meta": (None, 0.406, 1.506, 0.517),
}
PAPER = {d: {m: v[i] for m, v in _P.items()} for i, d in enumerate(DATASETS)}
# Table 4: R^2 of the best metadata feature and the mean over features
PAPER_TABLE4 = {
    "cubic": (0.76, 0.59),
    "chlorophyll": (0.15, -0.14),
    "algorithms": (0.43, -0.04),
    "robot_arm": (0.53, 0.44),
}


class PooledHardSharingRegressor(PooledScalingMixin, HardSharingRegressor):
    """Hard sharing with the pooled scaling of the other models of this run."""

    scaling = "pooled"


_LOADED = {}  # per process: the files are read once per worker


def load(dataset, data_home=None):
    """``(pairs, metadata)`` of every task the protocol uses (training + zero-shot)."""
    if (dataset, data_home) not in _LOADED:
        n_train, _, n_new = PROTOCOL[dataset]
        n_tasks = None if n_train is None else n_train + n_new
        tasks, meta = load_hypernet_tasks(dataset, n_tasks=n_tasks, data_home=data_home)
        _LOADED[dataset, data_home] = [tasks.task(t) for t in range(tasks.n_tasks)], meta
    return _LOADED[dataset, data_home]


def make_data(dataset, seed, data_home=None, n_tasks=None, n_per_task=None):
    """One seed's split. ``n_tasks`` / ``n_per_task`` override the protocol (Figs 4-5)."""
    pairs, meta = load(dataset, data_home)
    n_train, n, n_new = PROTOCOL[dataset]
    n_train = len(pairs) if n_train is None else n_train
    n_fit_tasks = n_tasks or n_train
    fit, test = hypernet_paper_split(
        pairs[:n_fit_tasks], n_per_task=n_per_task or n, random_state=seed
    )
    return {
        "fit": fit,
        "test": test,
        "meta": meta.iloc[:n_fit_tasks],
        "new": pairs[n_train : n_train + n_new],
        "new_meta": meta.iloc[n_train : n_train + n_new],
    }


def pooled_mse(preds, tasks):
    """MSE over every test row and target column of every task (the paper's metric)."""
    err = [  # ravel: a task without test rows (Chlorophyll's small lakes) adds nothing
        np.ravel(p) - np.ravel(y) for p, (_, y) in zip(preds, tasks)
    ]
    return float(np.mean(np.concatenate(err) ** 2))


def training(dataset, lr, seed, args, n_train_rows):
    """Adam at a constant ``lr``, batches of 64 random rows; an epoch is 5 passes (the
    paper validates every 5), patience ``--patience`` epochs, at most ``--max-passes``."""
    steps = 5 * max(1, math.ceil(n_train_rows / 64))
    return dict(
        lr=lr,
        batch_size=64,
        batching="mixed",
        steps_per_epoch=steps,
        max_epochs=max(1, args.max_passes // 5),
        n_iter_no_change=args.patience,
        validation_fraction=0.25,
        random_state=seed,
    )


_HYPERNET_VARIANTS = {
    "no_compression": dict(compress=False),
    "no_feature_extractor": dict(hyper_layers=0),
    "no_embeddings": dict(use_embeddings=False),
}


def build(method, config, train):
    """The estimator of a result row; ``config`` holds ``lr`` and maybe ``hyper_layers``."""
    base = method.removesuffix("_meta")
    if base.startswith("hypernet") or method == "hypernet_shuffled_meta":
        extra = next((v for k, v in _HYPERNET_VARIANTS.items() if k in method), {})
        kw = {"hyper_layers": config.get("hyper_layers", 1), **extra}
        return MultiTaskHypernetRegressor(**kw, **train)
    if base in ("stl_naive", "stl"):
        enc = "none" if base == "stl_naive" else ("metadata" if method == "stl_meta" else "onehot")
        return SingleNetworkRegressor(task_encoding=enc, **train)
    if base == "hard_sharing":  # trunk 32-32 -> 32 and a linear head: three layers of 32
        return PooledHardSharingRegressor(
            hidden_layer_sizes=(32, 32), latent_dim=32, head_hidden_sizes=(), **train
        )
    if base == "cross_stitch":
        return CrossStitchRegressor(**train)
    if base == "sluice":
        return SluiceRegressor(**train)
    raise ValueError(f"unknown method {method!r}")


def uses_metadata(method):
    return method.endswith("_meta") or method.startswith("hide_")


def with_metadata_columns(tasks, meta):
    """Metadata appended to every row (hard sharing's use of metadata, as the paper)."""
    values = meta.to_numpy()
    return [(np.hstack([X, np.tile(m, (len(X), 1))]), y) for (X, y), m in zip(tasks, values)]


def fit_predict(method, est, data, fit_meta):
    """Fit on the fitting rows; return test predictions (and the test tasks used)."""
    fit, test = data["fit"], data["test"]
    pairs = [fit.task(t) for t in range(fit.n_tasks)]
    test_pairs = [test.task(t) for t in range(test.n_tasks)]
    if method == "hard_sharing_meta":
        est.fit(with_metadata_columns(pairs, data["meta"]))
        return est.predict([X for X, _ in with_metadata_columns(test_pairs, data["meta"])])
    est.fit(pairs, metadata=fit_meta)
    return est.predict([X for X, _ in test_pairs])


def run_job(job, args):
    """One fit: ``job = (dataset, seed, method, config, stage)``; returns its JSON row."""
    pin_threads()
    dataset, seed, method, config, stage = job
    data = make_data(dataset, seed, args.data_home, config.get("n_tasks"), config.get("n"))
    fit_meta = data["meta"] if uses_metadata(method) else None
    if method == "hypernet_shuffled_meta":
        rng = np.random.default_rng(seed + 7)
        fit_meta = data["meta"].apply(lambda c: rng.permutation(c.to_numpy()))
    hide = config.get("hide")
    if hide is not None:
        fit_meta = data["meta"].drop(columns=[hide])
    train = training(dataset, config["lr"], seed, args, int(data["fit"].sizes.sum() * 0.75))
    est = build("hypernet_meta" if hide else method, config, train)
    t0, c0 = time.perf_counter(), time.process_time()
    preds = fit_predict(method, est, data, fit_meta)
    cpu_s = time.process_time() - c0
    test = [data["test"].task(t) for t in range(data["test"].n_tasks)]
    mse = pooled_mse(preds, test)
    row = {
        "dataset": dataset,
        "seed": seed,
        "method": method,
        "stage": stage,
        **{k: v for k, v in config.items() if k != "hide"},
        "mse": mse,
        "rmse": math.sqrt(mse),
        "valid_loss": float(min(est.history_[:, "valid_loss"])),
        "epochs": len(est.history_),
        "fit_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(cpu_s, 2),
    }
    if stage == "evaluation":
        row.update(zero_shot(method, est, data))
    if hide is not None:
        row.update(hidden=hide, **embedding_r2(est.task_embeddings_, data["meta"][hide], seed))
    return row


def zero_shot(method, est, data):
    """Test MSE on the held-out tasks, from their metadata alone (or none for STL-naive)."""
    if not data["new"] or method not in ("hypernet_meta", "stl_meta", "stl_naive"):
        return {}
    metas = data["new_meta"].to_numpy()
    if method == "stl_naive":
        preds = [est.predict_new_task(X) for X, _ in data["new"]]
    else:
        preds = [est.predict_new_task(X, m) for (X, _), m in zip(data["new"], metas)]
    return {"zero_shot_mse": pooled_mse(preds, data["new"]), "zero_shot_tasks": len(preds)}


def embedding_r2(embeddings, target, seed):
    """Table 4: a random forest predicts the hidden metadata column from the embeddings;
    R^2 of the 10-fold cross-validated predictions over tasks."""
    target = target.to_numpy()
    cv = KFold(n_splits=min(10, len(target)), shuffle=True, random_state=seed)
    rf = RandomForestRegressor(n_estimators=100, random_state=seed)
    return {"r2": float(r2_score(target, cross_val_predict(rf, embeddings, target, cv=cv)))}


# ---------------------------------------------------------------- the plan
def candidates(method, args):
    """Configurations a method is selected over (lr grid, and depth for hypernets)."""
    depths = args.depths if method.startswith("hypernet") else [None]
    return [
        {"lr": lr} if d is None else {"lr": lr, "hyper_layers": d}
        for lr in args.lrs
        for d in depths
    ]


def table2_methods():
    return [m + s for m in MAIN for s in ("", "_meta") if not (m == "stl_naive" and s)]


def selection_jobs(args):
    """Selection fits; a method with a single candidate needs none."""
    return [
        (d, SELECTION_SEED_OFFSET + k, m, c, "selection")
        for d in args.datasets
        for m in table2_methods()
        if len(candidates(m, args)) > 1
        for c in candidates(m, args)
        for k in range(args.select_seeds)
    ]


def select(rows, args):
    """``{(dataset, method): config}`` with the lowest mean validation loss."""
    fixed = {
        (d, m): candidates(m, args)[0]
        for d in args.datasets
        for m in table2_methods()
        if len(candidates(m, args)) == 1
    }
    return {**fixed, **_lowest_validation_loss(rows)}


def _lowest_validation_loss(rows):
    losses = {}
    for r in rows:
        cfg = tuple((k, r[k]) for k in ("lr", "hyper_layers") if k in r)
        losses.setdefault((r["dataset"], r["method"]), {}).setdefault(cfg, []).append(
            r["valid_loss"]
        )
    return {key: dict(min(c, key=lambda k: np.mean(c[k]))) for key, c in losses.items()}


def ablation_config(method, dataset, chosen):
    """An ablation keeps the lr (and depth) selected for its full model."""
    full = "hypernet_meta" if uses_metadata(method) else "hypernet"
    cfg = dict(chosen[(dataset, full)])
    if "no_feature_extractor" in method:
        cfg["hyper_layers"] = 0
    return cfg


def evaluation_jobs(args, chosen):
    """Table 2 (every seed), Table 3 and 4 (the first ``--ablation-seeds``), Figs 4-5."""
    seeds = list(range(args.seeds))
    jobs = [
        (d, s, m, chosen[(d, m)], "evaluation")
        for s in seeds
        for d in args.datasets
        for (dd, m) in chosen
        if dd == d and "2" in args.tables
    ]
    for s in seeds[: max(args.ablation_seeds, args.table4_seeds)]:
        for d in args.datasets:
            if "3" in args.tables and s < args.ablation_seeds:
                jobs += [(d, s, m, ablation_config(m, d, chosen), "ablation") for m in ABLATIONS]
            if "4" in args.tables and s < args.table4_seeds:
                cols = load(d, args.data_home)[1].columns
                cfg = chosen[(d, "hypernet_meta")]
                jobs += [(d, s, f"hide_{c}", {**cfg, "hide": c}, "table4") for c in cols]
    return jobs + figure_jobs(args, chosen)


def figure_jobs(args, chosen):
    """Figures 4 and 5: hypernetwork with and without metadata against rows per task and
    against the number of tasks (Cubic and Robot Arm), on ``--figure-seeds`` seeds."""
    if "fig" not in args.tables:
        return []
    jobs = []
    for d in [d for d in args.datasets if PROTOCOL[d][1] is not None]:
        for s in range(args.figure_seeds):
            for m in ("hypernet", "hypernet_meta"):
                cfg = chosen[(d, m)]
                jobs += [(d, s, m, {**cfg, "n": n}, "fig4") for n in args.fig_rows]
                jobs += [(d, s, m, {**cfg, "n_tasks": t}, "fig5") for t in args.fig_tasks]
    return jobs


# ---------------------------------------------------------------- summary
def mean_se(values):
    v = np.asarray(values, dtype=float)
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")
    return [round(float(v.mean()), 4), round(se, 4), len(v)]


def table(rows, stage, key="method", metric="mse"):
    """``{dataset: {key: [mean, se, n]}}`` of one stage's rows."""
    groups = {}
    for r in rows:
        if r["stage"] == stage and metric in r:
            groups.setdefault(r["dataset"], {}).setdefault(r[key], []).append(r[metric])
    return {d: {k: mean_se(v) for k, v in sorted(g.items())} for d, g in groups.items()}


def metadata_gain(rows, stage="evaluation", by=None):
    """Paired (by seed, and ``by``) MSE without minus with metadata, per base method."""
    out = {}
    index = {
        (r["dataset"], r["method"], r["seed"], r.get(by)): r["mse"]
        for r in rows
        if r["stage"] == stage
    }
    for (d, m, s, b), mse in index.items():
        with_meta = index.get((d, m + "_meta", s, b))
        if with_meta is not None and not m.endswith("_meta"):
            name = m if by is None else f"{m}@{by}={b}"
            out.setdefault(d, {}).setdefault(name, []).append(mse - with_meta)
    return {d: {k: mean_se(v) for k, v in sorted(g.items())} for d, g in out.items()}


def table4(rows):
    r2 = table(rows, "table4", key="hidden", metric="r2")
    out = {}
    for d, cols in r2.items():
        means = {c: v[0] for c, v in cols.items()}
        best = max(means, key=means.get)
        out[d] = {
            "per_feature": cols,
            "best_feature": [best, means[best]],
            "average": round(float(np.mean(list(means.values()))), 4),
            "paper_best_average": PAPER_TABLE4[d],
        }
    return out


def summarize(rows, chosen, args, wall_s):
    t2 = table(rows, "evaluation")
    for d, methods in t2.items():
        for m, v in methods.items():
            methods[m] = {"mse": v, "paper": PAPER[d].get(m)}
        ranked = sorted((v["mse"][0], m) for m, v in methods.items() if m.endswith("_meta"))
        methods["best_with_metadata"] = ranked[0][1] if ranked else None
    t3 = table(rows, "ablation")
    for d, methods in t3.items():
        for m, v in methods.items():
            methods[m] = {"mse": v, "paper": PAPER[d].get(m)}
    return {
        "summary": {
            "table2": t2,
            "table2_rmse": table(rows, "evaluation", metric="rmse"),
            "improvement_from_metadata": metadata_gain(rows),
            "zero_shot_mse": table(rows, "evaluation", metric="zero_shot_mse"),
            "table3": t3,
            "table4": table4(rows),
            "fig4_gain": metadata_gain(rows, "fig4", by="n"),
            "fig5_gain": metadata_gain(rows, "fig5", by="n_tasks"),
            "fit_s": table(rows, "evaluation", metric="fit_s"),
        },
        "selected": {f"{d}/{m}": c for (d, m), c in sorted(chosen.items())},
        "protocol": protocol(args, wall_s),
    }


def protocol(args, wall_s):
    return {
        "datasets": {
            d: dict(zip(("tasks", "n_per_task", "zero_shot_tasks"), PROTOCOL[d]))
            for d in args.datasets
        },
        "split": "hypernet_paper_split: per task n train+validation rows, the rest test "
        "(None: 60/20/20); validation a quarter of the fitting rows; each seed its own split",
        "metric": "pooled MSE of un-normalised targets over all test rows (rmse = sqrt)",
        "selection": f"lr in {list(args.lrs)}, hypernet depth in {list(args.depths)}, by "
        f"mean best validation loss over {args.select_seeds} selection seed(s) "
        f"{SELECTION_SEED_OFFSET}+, per dataset and method (with/without metadata apart)",
        "training": "Adam, constant lr, batch 64 mixed rows, pooled standardisation, epoch = "
        f"5 passes, patience {args.patience} epochs, at most {args.max_passes} passes, best "
        "weights kept",
        "seeds": args.seeds,
        "ablation_seeds": min(args.ablation_seeds, args.seeds),
        "table4_seeds": min(args.table4_seeds, args.seeds),
        "figure_seeds": args.figure_seeds,
        "tables": args.tables,
        "table4": "hide one metadata column, fit hypernet_meta with the rest; random forest "
        "(100 trees) predicts it from task_embeddings_; R^2 of 10-fold cross_val_predict",
        "wall_s": round(wall_s, 1),
        "environment": environment(n_jobs=args.n_jobs),
    }


def plot(summary, path):
    """Figures 4 and 5 analogue: metadata gain against rows per task / number of tasks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, label in (
        (axes[0], "fig4_gain", "rows per task (n)"),
        (axes[1], "fig5_gain", "number of tasks"),
    ):
        for d, gains in summary[key].items():
            pts = sorted((float(k.split("=")[1]), v[0], v[1]) for k, v in gains.items())
            x, y, e = (np.array(c) for c in zip(*pts))
            ax.errorbar(x, y, yerr=np.nan_to_num(e), marker="o", capsize=3, label=d)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("test MSE gain from metadata")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


_CONFIG_KEYS = ("lr", "hyper_layers", "n", "n_tasks")


def job_key(job):
    """A fit's identity: dataset, seed, method, stage and configuration."""
    dataset, seed, method, config, stage = job
    cfg = {k: config[k] for k in (*_CONFIG_KEYS, "hide") if k in config}
    return json.dumps([dataset, seed, method, stage, cfg], sort_keys=True)


def reusable_rows(path):
    """``{job_key: row}`` of the fit rows in an earlier run's JSON lines (``--reuse``)."""
    if path is None:
        return {}
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    out = {}
    for r in rows:
        if "stage" not in r:  # the summary line
            continue
        cfg = {k: r[k] for k in _CONFIG_KEYS if k in r}
        if "hidden" in r:
            cfg["hide"] = r["hidden"]
        out[job_key((r["dataset"], r["seed"], r["method"], cfg, r["stage"]))] = r
    return out


def parse(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--select-seeds", type=int, default=1)
    p.add_argument("--ablation-seeds", type=int, default=3, help="seeds of Table 3")
    p.add_argument("--table4-seeds", type=int, default=2, help="seeds of Table 4")
    p.add_argument("--figure-seeds", type=int, default=2)
    p.add_argument("--lrs", type=float, nargs="+", default=list(LR_GRID))
    p.add_argument("--depths", type=int, nargs="+", default=list(DEPTH_GRID))
    p.add_argument("--max-passes", type=int, default=2000, help="passes over the data")
    p.add_argument(
        "--patience",
        type=int,
        default=10,
        help="early-stopping patience in 5-pass epochs (the paper's 20 passes: 4; too short "
        "for the hypernetwork without metadata, whose tasks start from one embedding)",
    )
    p.add_argument("--fig-rows", type=int, nargs="+", default=[5, 10, 20, 40])
    p.add_argument("--fig-tasks", type=int, nargs="+", default=[5, 10, 20, 30])
    p.add_argument(
        "--tables", nargs="+", default=["2", "3", "4", "fig"], choices=["2", "3", "4", "fig"]
    )
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--data-home", default=None)
    p.add_argument("--out", default=None, help="also write the JSON rows to this file")
    p.add_argument(
        "--reuse",
        default=None,
        help="JSON rows of an earlier run (its --out): fits already there are not rerun "
        "(resume an interrupted run, or add tables to a run of Table 2 alone)",
    )
    p.add_argument(
        "--summary-only",
        action="store_true",
        help="fit nothing: summarise the --reuse rows that the plan asks for",
    )
    p.add_argument("--plot", default=None, help="save the Figures 4-5 analogue here")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    pin_threads()
    t0 = time.perf_counter()
    with JsonEmitter(args.out) as emit:
        done = reusable_rows(args.reuse)

        def execute(jobs):
            old = [emit(done[job_key(j)]) for j in jobs if job_key(j) in done]
            todo = [j for j in jobs if job_key(j) not in done and not args.summary_only]
            run = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
            return old + [emit(r) for r in run(delayed(run_job)(j, args) for j in todo)]

        selection = execute(selection_jobs(args))
        chosen = select(selection, args)
        rows = execute(evaluation_jobs(args, chosen))
        summary = summarize(rows, chosen, args, time.perf_counter() - t0)
        summary["summary"]["cpu_s_total"] = round(sum(r["cpu_s"] for r in selection + rows), 1)
        emit(summary)
    if args.plot and summary["summary"]["fig4_gain"]:
        plot(summary["summary"], args.plot)
    return summary


if __name__ == "__main__":
    main()
