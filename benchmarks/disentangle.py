"""Disentanglement benchmark: does hard parameter sharing disentangle? (protocol: BENCHMARKS.md)

Reproduces Section 4.1 of "On the relationship between disentanglement and multi-task
learning" on the project's own generators (no download):

- data: ground-truth factors Z and observations X from ``make_mixed_factors`` (tabular) or
  ``make_sprites`` (32 x 32 images); 10 regression tasks ``make_factor_tasks(Z)`` (random tanh
  MLPs, four hidden layers of 300, N(0, 1) weights). Data and tasks are fixed (``--data-seed``);
  the model seed varies, as in the study.
- models (same architecture and training for all): an untrained encoder ("random"), ten
  single-task networks (one per task; mean / min / max over tasks), a one-head network (one
  multi-output head, multivariate regression) and a multi-head network (one head per task).
  By default the multi-task networks are fitted as one task with a 10-column y
  (``heads="per_output"`` / ``heads="one"``): every row feeds all heads at once, as in the
  study. ``--multitask-form tasks`` fits 10 skmtl tasks on the same X instead
  (``heads="multi"``; 10x more encoder passes per epoch).
- metrics on the held-out rows' latent codes: MIG, SAP, DCI (disentanglement, completeness,
  informativeness, GBT importances) against the factor classes, FactorVAE score (majority vote;
  batches of 64 test rows sharing one factor value), and the test RMSE of each network on its
  tasks (targets standardised with training statistics, so 1.0 = predicting the mean).
  ``--metrics skmtl`` (default): skmtl's continuous SAP and regression DCI (R^2
  informativeness); ``--metrics both`` adds ``sap_dlib`` and ``dci_*_dlib``: the
  quantities of disentanglement_lib, which the study used (discrete SAP with
  ``LinearSVC(C=0.01)``, DCI with ``GradientBoostingClassifier()`` and accuracy), computed with
  ``reference="disentanglement_lib"`` on a random 70/30 split of the test codes.

Prints one JSON object per (dataset, model, seed) row, one per aggregated (dataset, model) row
and a final summary object with the protocol and the check of the study's finding.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/disentangle.py                  # both datasets
    OMP_NUM_THREADS=1 python benchmarks/disentangle.py --dataset tabular --seeds 3 \\
        --json results_tab.jsonl
    python benchmarks/disentangle.py --report results_tab.jsonl results_spr.jsonl \\
        --plot docs/img/disentangle.png
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)
import numpy as np

from skmtl.datasets.factors import make_factor_tasks, make_mixed_factors, make_sprites  # noqa: E402
from skmtl.hard_sharing import HardSharingRegressor  # noqa: E402
from skmtl.metrics import (  # noqa: E402
    dataset_sampler,
    dci,
    factor_vae_score,
    mutual_info_gap,
    sap_score,
)

METRICS = [
    "mig",
    "factor_vae",
    "sap",
    "dci_disentanglement",
    "dci_completeness",
    "dci_informativeness",
]
#: disentanglement_lib's SAP and DCI (``--metrics both``), comparable with the study
DLIB_METRICS = [
    "sap_dlib",
    "dci_disentanglement_dlib",
    "dci_completeness_dlib",
    "dci_informativeness_dlib",
]
MODELS = ["random", "single-mean", "single-min", "single-max", "one-head", "multi-head"]


def task_factor_subsets(kind, n_tasks, n_factors, seed):
    """The factors each task reads (the study's Appendix H); None: all of them.

    ``"random"``: a subset drawn uniformly among the non-empty ones, per task;
    ``"disjoint"``: the 1st, 3rd, ... task on the first ``ceil(k / 2)`` factors, the 2nd,
    4th, ... on the others.
    """
    if kind == "all":
        return None
    if kind == "disjoint":
        half = (n_factors + 1) // 2
        halves = [list(range(half)), list(range(half, n_factors))]
        return [halves[t % 2] for t in range(n_tasks)]
    rng = np.random.default_rng(seed)
    subsets = []
    while len(subsets) < n_tasks:
        pick = np.flatnonzero(rng.random(n_factors) < 0.5)
        if pick.size:
            subsets.append(pick.tolist())
    return subsets


def make_data(name, n_train, n_test, n_tasks, data_seed, task_factors="all"):
    n = n_train + n_test
    if name == "tabular":
        X, values, classes = make_mixed_factors(
            n, n_factors=5, n_features=20, n_levels=10, random_state=data_seed
        )
        image_shape = None
    elif name == "sprites":
        images, values, classes = make_sprites(n, image_size=32, random_state=data_seed)
        X = images.reshape(n, -1)
        image_shape = (32, 32)
    else:
        raise ValueError(f"unknown dataset {name!r}")
    subsets = task_factor_subsets(task_factors, n_tasks, values.shape[1], data_seed + 2)
    Y = make_factor_tasks(
        values, n_tasks=n_tasks, factor_subsets=subsets, random_state=data_seed + 1
    )
    tr, te = slice(0, n_train), slice(n_train, n)
    return dict(
        X_train=X[tr],
        X_test=X[te],
        Y_train=Y[tr],
        Y_test=Y[te],
        z_test=classes[te].astype(float),
        factors_train=values[tr],
        factors_test=values[te],
        image_shape=image_shape,
        factor_subsets=subsets,
    )


def make_estimator(args, data, heads, seed, **overrides):
    """The study's hard-sharing network (``overrides``: other estimator parameters)."""
    common = dict(
        latent_dim=args.latent_dim,
        head_hidden_sizes=(300, 300, 300),
        heads=heads,
        lr=args.lr,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=args.patience,
        random_state=seed,
    )
    if data["image_shape"] is not None:
        common.update(image_shape=data["image_shape"], conv_channels=tuple(args.conv_channels))
    else:
        common.update(hidden_layer_sizes=tuple(args.hidden))
    return HardSharingRegressor(**{**common, **overrides})


def score_codes(codes, z, args, seed):
    sample = dataset_sampler(z, codes)
    d = dci(z, codes, n_estimators=50, random_state=seed)
    scores = {
        "mig": mutual_info_gap(z, codes),
        "factor_vae": factor_vae_score(
            sample,
            lambda c: c,
            z.shape[1],
            n_train_votes=args.fv_votes,
            n_eval_votes=args.fv_votes // 2,
            random_state=seed,
        ),
        "sap": sap_score(z, codes),
        "dci_disentanglement": d["disentanglement"],
        "dci_completeness": d["completeness"],
        "dci_informativeness": d["informativeness"],
    }
    if getattr(args, "metrics", "skmtl") == "both":
        ref = dict(reference="disentanglement_lib", random_state=seed)
        dl = dci(z, codes, **ref)
        scores["sap_dlib"] = sap_score(z, codes, discrete_factors=True, **ref)
        for key in ("disentanglement", "completeness", "informativeness"):
            scores[f"dci_{key}_dlib"] = dl[key]
    return scores


def metric_keys(row):
    """The metric columns present in a row: skmtl's, plus disentanglement_lib's if run."""
    return METRICS + [m for m in DLIB_METRICS if m in row]


def rmse(est, X, Y_test, Y_train, cols, task_inputs=None):
    """Mean over target columns of test RMSE / training std (standardised RMSE)."""
    pred = est.predict(task_inputs if task_inputs is not None else X)
    if isinstance(pred, list):
        pred = np.column_stack(pred)
    pred = pred.reshape(len(X), -1)
    err = np.sqrt(((pred - Y_test[:, cols]) ** 2).mean(0)) / Y_train[:, cols].std(0)
    return float(err.mean())


def fit_multi(args, data, heads, seed):
    Xtr, Ytr = data["X_train"], data["Y_train"]
    n_tasks = Ytr.shape[1]
    if args.multitask_form == "columns":
        heads = "per_output" if heads == "multi" else heads
        est = make_estimator(args, data, heads, seed).fit(Xtr, Ytr)
        inputs = None
    else:
        est = make_estimator(args, data, heads, seed).fit(
            [(Xtr, Ytr[:, t]) for t in range(n_tasks)]
        )
        inputs = [data["X_test"]] * n_tasks
    return est, inputs


def run_seed(name, data, args, seed, emit):
    Xte, Yte, Ytr, z = data["X_test"], data["Y_test"], data["Y_train"], data["z_test"]
    n_tasks = Ytr.shape[1]
    all_cols = list(range(n_tasks))
    rows = {}

    def record(model, est, seconds, rmse_value, task=None):
        codes = est.transform(Xte) if est.n_tasks_ == 1 else est.transform(Xte, task=0)
        row = {
            "dataset": name,
            "model": model,
            "seed": seed,
            "rmse": rmse_value,
            "fit_seconds": round(seconds, 2),
            "epochs": int(getattr(est, "n_iter_", 0)),
        }
        if task is not None:
            row["task"] = task
        row.update(score_codes(codes, z, args, seed))
        emit(row)
        return row

    # untrained network (multi-head architecture, initialised only)
    if "random" in args.models:
        est = make_estimator(args, data, "per_output", seed).initialize(data["X_train"], Ytr)
        rows["random"] = record("random", est, 0.0, rmse(est, Xte, Yte, Ytr, all_cols))

    single = []
    t_single = 0.0
    for t in range(n_tasks if "single" in args.models else 0):
        t0 = time.perf_counter()
        est = make_estimator(args, data, "multi", seed).fit(data["X_train"], Ytr[:, t])
        dt = time.perf_counter() - t0
        t_single += dt
        single.append(record("single", est, dt, rmse(est, Xte, Yte, Ytr, [t]), task=t))
    for stat, fn in (("mean", np.mean), ("min", np.min), ("max", np.max)):
        if not single:
            break
        keys = metric_keys(single[0]) + ["rmse"]
        rows[f"single-{stat}"] = {m: float(fn([r[m] for r in single])) for m in keys}
    if single:
        rows["single-mean"]["fit_seconds"] = t_single / n_tasks

    for heads, model in (("one", "one-head"), ("multi", "multi-head")):
        if model not in args.models:
            continue
        t0 = time.perf_counter()
        est, inputs = fit_multi(args, data, heads, seed)
        dt = time.perf_counter() - t0
        rows[model] = record(model, est, dt, rmse(est, Xte, Yte, Ytr, all_cols, inputs))
    return rows


def aggregate(per_seed):
    """per_seed: list of {model: row}; returns {model: {metric: (mean, std)}}."""
    out = {}
    for model in MODELS:
        if not any(model in r for r in per_seed):
            continue
        out[model] = {}
        first = next(r[model] for r in per_seed if model in r)
        for m in metric_keys(first) + ["rmse"]:
            vals = [r[model][m] for r in per_seed if model in r]
            out[model][m] = (float(np.mean(vals)), float(np.std(vals)))
    return out


def finding(agg):
    """Check multi-head > single-task mean > random, metric by metric."""
    checks = {}
    if not all(k in agg for k in ("multi-head", "single-mean", "random", "one-head")):
        return checks
    for m in metric_keys(agg["multi-head"]):
        mh, st, rd = (agg[k][m][0] for k in ("multi-head", "single-mean", "random"))
        checks[m] = {
            "multi>single": bool(mh > st),
            "single>random": bool(st > rd),
            "multi>one-head": bool(mh > agg["one-head"][m][0]),
            "holds": bool(mh > st > rd),
        }
    return checks


def paired(per_seed, a="multi-head", b="one-head"):
    """Paired comparison of ``a`` against ``b`` over the seeds that ran both, per column.

    Returns ``{column: {n, mean_diff, se, a_better, sign_p, t_p}}``: the mean and standard
    error of ``a - b``, the seeds where ``a`` is better (higher; lower for RMSE), the
    two-sided sign-test p-value (ties dropped) and the paired t-test p-value.
    """
    from scipy import stats

    both = [r for r in per_seed if a in r and b in r]
    if len(both) < 2:
        return {}
    out = {}
    for m in metric_keys(both[0][a]) + ["rmse"]:
        d = np.array([r[a][m] - r[b][m] for r in both])
        better = d < 0 if m == "rmse" else d > 0
        n_untied = int(np.count_nonzero(d))
        out[m] = {
            "n": len(d),
            "mean_diff": float(d.mean()),
            "se": float(d.std(ddof=1) / np.sqrt(len(d))),
            "a_better": int(better.sum()),
            "sign_p": float(stats.binomtest(int(better.sum()), n_untied).pvalue)
            if n_untied
            else 1.0,
            "t_p": float(stats.ttest_rel([r[a][m] for r in both], [r[b][m] for r in both]).pvalue),
        }
    return out


def paired_table(name, result, a="multi-head", b="one-head"):
    lines = [
        f"#### {name}: {a} - {b}, paired over seeds",
        "",
        f"| column | seeds | mean diff ± s.e. | {a} better | sign test p | paired t p |",
        "|---|---|---|---|---|---|",
    ]
    for m, r in result.items():
        lines.append(
            f"| {m} | {r['n']} | {r['mean_diff']:+.3f} ± {r['se']:.3f} | {r['a_better']} | "
            f"{r['sign_p']:.3f} | {r['t_p']:.3f} |"
        )
    return "\n".join(lines)


def markdown_table(name, agg):
    keys = metric_keys(next(iter(agg.values()))) if agg else METRICS
    lines = [
        f"#### {name}",
        "",
        "| model | " + " | ".join(keys + ["test RMSE"]) + " |",
        "|---" * (len(keys) + 2) + "|",
    ]
    for model in [m for m in MODELS if m in agg]:
        cells = [f"{agg[model][m][0]:.3f} ± {agg[model][m][1]:.3f}" for m in keys + ["rmse"]]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(aggs, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(aggs)
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 3.2 * len(names)), squeeze=False)
    shown = ["random", "single-mean", "one-head", "multi-head"]
    colors = ["#444444", "#aaaaaa", "#f4a582", "#ca0020"]
    width = 0.8 / len(shown)
    for ax, name in zip(axes[:, 0], names):
        agg = aggs[name]
        x = np.arange(len(METRICS))
        for i, (model, color) in enumerate(zip(shown, colors)):
            if model not in agg:
                continue
            mean = [agg[model][m][0] for m in METRICS]
            std = [agg[model][m][1] for m in METRICS]
            ax.bar(
                x + (i - (len(shown) - 1) / 2) * width,
                mean,
                width,
                yerr=std,
                label=model,
                color=color,
                capsize=2,
            )
        for j, m in enumerate(METRICS if "single-min" in agg else []):  # single min..max
            lo, hi = agg["single-min"][m][0], agg["single-max"][m][0]
            xj = j + (1 - (len(shown) - 1) / 2) * width
            ax.plot([xj, xj], [lo, hi], color="black", lw=1)
        ax.set_xticks(x, [m.replace("dci_", "DCI ") for m in METRICS])
        ax.set_ylim(0, 1)
        ax.set_title(f"{name}: mean ± std over seeds (bar: single-task min..max)")
        ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def report(files, plot_path):
    per = {}
    for f in files:
        for line in Path(f).read_text().splitlines():
            row = json.loads(line)
            if row.get("kind") == "seed-models":
                per.setdefault(row["dataset"], []).append(row["rows"])
    aggs = {name: aggregate(rows) for name, rows in per.items()}
    for name, agg in aggs.items():
        print(markdown_table(name, agg))
        print()
        result = paired(per[name])
        if result:
            print(paired_table(name, result))
            print()
            print(json.dumps({"dataset": name, "paired_multi_minus_one_head": result}))
        print(json.dumps({"dataset": name, "finding": finding(agg)}))
    if plot_path:
        plot(aggs, plot_path)
    return aggs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=["tabular", "sprites", "both"], default="both")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--n-tasks", type=int, default=10, help="the study's Appendix G: 5 to 50")
    p.add_argument(
        "--task-factors",
        choices=["all", "random", "disjoint"],
        default="all",
        help="factors each task reads (the study's Appendix H)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="max epochs (default 30 tabular, 15 sprites; the study: 200)",
    )
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--latent-dim", type=int, default=10)
    p.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[128, 128],
        help="MLP encoder hidden layers (tabular)",
    )
    p.add_argument(
        "--conv-channels",
        type=int,
        nargs="+",
        default=[16, 32, 32, 64],
        help="conv encoder channels (sprites; the study: 32 32 64 128 256 256)",
    )
    p.add_argument("--fv-votes", type=int, default=800)
    p.add_argument(
        "--models",
        nargs="+",
        default=["random", "single", "one-head", "multi-head"],
        choices=["random", "single", "one-head", "multi-head"],
        help="networks to train (single = the ten single-task networks)",
    )
    p.add_argument("--multitask-form", choices=["columns", "tasks"], default="columns")
    p.add_argument(
        "--metrics",
        choices=["skmtl", "both"],
        default="skmtl",
        help="both: also disentanglement_lib's SAP and DCI (the study's quantities)",
    )
    p.add_argument("--json", default=None, help="also write the rows to this JSONL file")
    p.add_argument(
        "--report",
        nargs="+",
        default=None,
        help="only aggregate these JSONL files (tables + finding)",
    )
    p.add_argument("--plot", default=None, help="bar chart PNG path (with --report or a run)")
    args = p.parse_args(argv)

    if args.report:
        report(args.report, args.plot)
        return

    _common.pin_threads(1)
    warnings.filterwarnings("ignore")
    out = _common.JsonEmitter(args.json)

    def emit(row):
        out({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})

    names = ["tabular", "sprites"] if args.dataset == "both" else [args.dataset]
    t_start = time.perf_counter()
    aggs = {}
    for name in names:
        epochs = args.epochs or (30 if name == "tabular" else 15)
        run_args = argparse.Namespace(**{**vars(args), "epochs": epochs})
        data = make_data(
            name, args.n_train, args.n_test, args.n_tasks, args.data_seed, args.task_factors
        )
        emit({"kind": "data", "dataset": name, "factor_subsets": data["factor_subsets"]})
        per_seed = []
        for seed in range(args.seeds):
            rows = run_seed(name, data, run_args, seed, emit)
            per_seed.append(rows)
            emit({"kind": "seed-models", "dataset": name, "seed": seed, "rows": rows})
        agg = aggregate(per_seed)
        aggs[name] = agg
        for model in agg:
            emit(
                {
                    "kind": "aggregate",
                    "dataset": name,
                    "model": model,
                    **{f"{m}_mean": v[0] for m, v in agg[model].items()},
                    **{f"{m}_std": v[1] for m, v in agg[model].items()},
                }
            )
        fit = {
            m: float(np.mean([r[m]["fit_seconds"] for r in per_seed]))
            for m in ("single-mean", "one-head", "multi-head")
            if m in agg
        }
        if "single-mean" in fit:
            emit(
                {
                    "kind": "timing",
                    "dataset": name,
                    "fit_time_ratio_vs_single_task": {
                        m: round(fit[m] / fit["single-mean"], 2) for m in fit
                    },
                }
            )
        print(markdown_table(name, agg), file=sys.stderr)
    summary = {
        "kind": "summary",
        "benchmark": "disentangle",
        "protocol": {
            "datasets": {
                "tabular": "make_mixed_factors: 5 factors x 10 levels -> 20 features",
                "sprites": "make_sprites 32x32: shape 3, scale 4, orientation 8, x 8, y 8",
            },
            "tasks": f"{args.n_tasks} x make_factor_tasks (tanh MLP 4x300, N(0,1) weights)",
            "task_factors": args.task_factors,
            "split": f"{args.n_train} train (10% of it for early stopping) / {args.n_test} "
            f"test rows, data seed {args.data_seed}",
            "model_seeds": list(range(args.seeds)),
            "epochs": {n: (args.epochs or (30 if n == "tabular" else 15)) for n in names},
            "optimizer": f"adam lr={args.lr} batch={args.batch_size}, early stopping "
            f"patience {args.patience}",
            "encoder": {
                "tabular": f"MLP {args.hidden} -> {args.latent_dim}",
                "sprites": f"conv k4 s2 {args.conv_channels} -> {args.latent_dim}",
            },
            "heads": "3 x 300 ReLU + linear (the study's Table 3)",
            "multitask_form": args.multitask_form,
            "metrics": "MIG (20 bins), FactorVAE (majority vote, "
            f"{args.fv_votes}/{args.fv_votes // 2} votes, batch 64), SAP "
            "(continuous), DCI (GBT 50 trees, R^2 informativeness); on test codes "
            "vs factor classes; RMSE / train std"
            + (
                "; *_dlib: reference='disentanglement_lib' (discrete SAP LinearSVC(C=0.01) "
                "accuracy; DCI GradientBoostingClassifier() importances, accuracy), random "
                "70/30 split of the test codes"
                if args.metrics == "both"
                else ""
            ),
            "device": "cpu",
        },
        "environment": _common.environment(),
        "finding_multi>single>random": {n: finding(a) for n, a in aggs.items()},
        "wall_seconds": round(time.perf_counter() - t_start, 1),
    }
    emit(summary)
    if args.plot:
        plot(aggs, args.plot)
    out.close()


if __name__ == "__main__":
    main()
