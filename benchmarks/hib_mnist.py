"""MultiMNIST accuracy and Grouped-MNIST task-pair recovery of HierarchicalIBClassifier.

Protocol (/work/shared/BENCHMARKS.md, "Grouped-MNIST and MultiMNIST"):

* images: the MNIST images found in the data folder (the shared cache: the 10,000 test images),
  permuted with ``--split-seed`` and split 60/20/20 into train / validation / test;
* MultiMNIST (Table IV analogue): composites built separately from the train, validation and
  test images (no image appears in two splits); two tasks (first / second digit); accuracy per
  task for beta in {no noise, 0, 1e-4, 1e-3, 1e-2, 1e-1};
* Grouped-MNIST (Table V analogue): per trial 8 distinct digits are drawn and arranged as two
  pairs of 3-digit groups sharing two digits ([a,b,c], [a,b,d], [e,f,g], [e,f,h]); every task
  answers "which of these digits, or none" on every training image. Success = the largest
  within-pair dissimilarity (eq. 11) is smaller than the smallest between-pair one. Learned noise
  versus the fixed-noise two-stage protocol, beta in {0.01, 0.05, 0.1}.

Models are trained for a fixed number of epochs (no early stopping, as in the paper) on the
training split, every step holding rows of every task (``--batching mixed``, the estimator's
default); validation and test accuracy are reported twice: with ``W = Z`` (``noise="mean"``,
the estimator's default) and with one posterior noise sample per image (``noise="sample"``,
seeded; the paper's evaluation, keys ending in ``_sample``). Pixels are in [0, 1]
(``--pixels unit``, default) or normalised with the authors' mean 0.1307 and std 0.3081
(``--pixels authors``). Every row is one JSON object; the last line is a summary with the
protocol, the aggregated tables and the environment.

    OMP_NUM_THREADS=1 python benchmarks/hib_mnist.py --n-jobs 2 --figure docs/img/hib_grouped.png
"""

from __future__ import annotations

import argparse
import json
import time

import _common
import numpy as np

#: the HIB authors' MNIST normalisation (torchvision's usual constants)
AUTHORS_MEAN, AUTHORS_STD = 0.1307, 0.3081


def _setup_threads():
    _common.pin_threads(1)


def _pixels(X, mode):
    """Images as given ([0, 1]) or normalised as the authors' code does."""
    if mode == "authors":
        return ((X - AUTHORS_MEAN) / AUTHORS_STD).astype(np.float32)
    return X


def _accuracies(clf, tasks, prefix, seed):
    """Per-task accuracy with ``W = Z`` and with one seeded posterior sample."""
    row = {}
    for suffix, kw in (("", {}), ("_sample", {"noise": "sample", "random_state": seed})):
        preds = clf.predict([Xt for Xt, _ in tasks], **kw)
        for t, ((_, yt), pt) in enumerate(zip(tasks, preds)):
            row[f"{prefix}{t + 1}{suffix}"] = round(float(np.mean(np.asarray(yt) == pt)), 4)
    return row


def _split(n, seed):
    perm = np.random.RandomState(seed).permutation(n)
    a, b = int(0.6 * n), int(0.8 * n)
    return perm[:a], perm[a:b], perm[b:]


def _model(args, beta, *, noise=True, learn_noise=True, seed=0, epochs=None):
    from skmtl.hib import HierarchicalIBClassifier

    return HierarchicalIBClassifier(
        latent_dim=args.latent_dim,
        beta=beta,
        noise=noise,
        learn_noise=learn_noise,
        noise_refit_epochs=args.refit_epochs,
        log_var_lr_scale=args.log_var_lr_scale,
        scale_inputs=False,  # pixels as given: [0, 1], or the authors' normalisation
        lr=args.lr,
        batch_size=args.batch_size,
        batching=args.batching,
        max_epochs=epochs,
        early_stopping=False,
        validation_fraction=0.0,
        random_state=seed,
    )


# --------------------------------------------------------------------------- MultiMNIST
def _multimnist_job(args, X, y, splits, beta_label):
    _setup_threads()
    from skmtl.datasets.mnist import make_multimnist

    tr, va, te = splits
    sets = {}
    for k, (name, rows) in enumerate([("train", tr), ("valid", va), ("test", te)]):
        n = len(rows) * (args.multimnist_per_image if name == "train" else 1)
        Xm, Y = make_multimnist(n, X[rows], y[rows], random_state=args.seed + k)
        sets[name] = (_pixels(Xm, args.pixels), Y)
    Xtr, Ytr = sets["train"]
    noise = beta_label != "no noise"
    beta = 0.0 if not noise else float(beta_label)
    clf = _model(args, beta, noise=noise, seed=args.seed, epochs=args.epochs_multimnist)
    t0 = time.perf_counter()
    clf.fit([(Xtr, Ytr[:, 0]), (Xtr, Ytr[:, 1])])
    fit_s = time.perf_counter() - t0
    row = {
        "experiment": "multimnist",
        "model": "No Noise" if not noise else "Ours",
        "beta": beta_label,
        "fit_seconds": round(fit_s, 2),
    }
    for name in ("valid", "test"):
        Xs, Ys = sets[name]
        row.update(_accuracies(clf, [(Xs, Ys[:, 0]), (Xs, Ys[:, 1])], f"{name}_acc_digit", 0))
    return row


# --------------------------------------------------------------------------- Grouped-MNIST
def _groups_for_trial(trial, seed):
    d = np.random.RandomState(seed * 1000 + trial).permutation(10).tolist()
    return [[d[0], d[1], d[2]], [d[0], d[1], d[3]], [d[4], d[5], d[6]], [d[4], d[5], d[7]]]


def _grouped_job(args, X, y, splits, trial, beta, mode):
    _setup_threads()
    from skmtl.datasets.mnist import make_grouped_mnist_tasks
    from skmtl.interpret.hib import groups_recovered

    tr, _va, te = splits
    groups = _groups_for_trial(trial, args.seed)
    Xp = _pixels(X, args.pixels)
    train = make_grouped_mnist_tasks(groups, Xp[tr], y[tr], as_tasks=True)
    test = make_grouped_mnist_tasks(groups, Xp[te], y[te], as_tasks=True)
    clf = _model(
        args,
        beta,
        learn_noise=(mode == "learned"),
        seed=args.seed + trial,
        epochs=args.epochs_grouped,
    )
    t0 = time.perf_counter()
    clf.fit(train)
    fit_s = time.perf_counter() - t0
    ok = groups_recovered(clf.task_dissimilarity_, [[0, 1], [2, 3]])
    acc = _accuracies(clf, list(test), "test_acc_task", 0)
    row = {
        "experiment": "grouped_mnist",
        "model": "Ours" if mode == "learned" else "Fixed Noise",
        "beta": beta,
        "trial": trial,
        "groups": groups,
        "success": bool(ok),
        "clusters": clf.cluster_tasks(2).tolist(),
        "test_acc_mean": round(float(np.mean([acc[f"test_acc_task{t}"] for t in range(1, 5)])), 4),
        "test_acc_mean_sample": round(
            float(np.mean([acc[f"test_acc_task{t}_sample"] for t in range(1, 5)])), 4
        ),
        "noise_log_var": np.round(clf.noise_log_var_, 3).tolist(),
        "fit_seconds": round(fit_s, 2),
    }
    return row


def _figure(rows, path, beta=0.1, trial=0):
    """Figure-2-like panels from the stored noise log-variances of one trial (no refit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skmtl.interpret.hib import noise_dissimilarity, plot_task_dissimilarity

    picked = [
        r
        for r in rows
        if r["experiment"] == "grouped_mnist" and r["beta"] == beta and r["trial"] == trial
    ]
    if not picked:
        return
    fig, axes = plt.subplots(len(picked), 2, figsize=(9, 3.1 * len(picked)), squeeze=False)
    for ax, r in zip(axes, picked):
        lv = np.asarray(r["noise_log_var"])
        plot_task_dissimilarity(noise_dissimilarity(lv), lv, [str(g) for g in r["groups"]], axes=ax)
        ok = "pairs recovered" if r["success"] else "pairs NOT recovered"
        ax[0].set_title(f"{r['model']}, beta={beta}, trial {trial}: L1 distance ({ok})", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def _wilson(k, n, z=1.96):
    """95 % Wilson score interval of a success rate k / n."""
    if n == 0:
        return [float("nan"), float("nan")]
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(float(centre - half), 3), round(float(centre + half), 3)]


def summarize(rows, args, X, splits, total_seconds):
    """The summary line: aggregated tables, the protocol and the environment."""
    summary = {"summary": True}
    multi = [r for r in rows if r["experiment"] == "multimnist"]
    if multi:
        base = next((r["fit_seconds"] for r in multi if r["model"] == "No Noise"), None)
        summary["multimnist_table"] = [
            {
                "model": r["model"],
                "beta": r["beta"],
                "test_acc_digit1": r["test_acc_digit1"],
                "test_acc_digit2": r["test_acc_digit2"],
                "test_acc_digit1_sample": r.get("test_acc_digit1_sample"),
                "test_acc_digit2_sample": r.get("test_acc_digit2_sample"),
                "fit_time_ratio_vs_no_noise": None
                if not base
                else round(r["fit_seconds"] / base, 2),
            }
            for r in multi
        ]
    grouped = [r for r in rows if r["experiment"] == "grouped_mnist"]
    if grouped:
        table = []
        for m in args.modes:
            name = "Ours" if m == "learned" else "Fixed Noise"
            for b in args.betas_grouped:
                rs = [r for r in grouped if r["model"] == name and r["beta"] == b]
                if rs:
                    wins = int(sum(r["success"] for r in rs))
                    table.append(
                        {
                            "model": name,
                            "beta": b,
                            "trials": len(rs),
                            "successes": wins,
                            "success_rate": round(wins / len(rs), 3),
                            "success_ci95_wilson": _wilson(wins, len(rs)),
                            "mean_test_acc": round(
                                float(np.mean([r["test_acc_mean"] for r in rs])), 4
                            ),
                            "mean_test_acc_sample": _mean_of(rs, "test_acc_mean_sample"),
                            "mean_fit_seconds": round(
                                float(np.mean([r["fit_seconds"] for r in rs])), 2
                            ),
                        }
                    )
        learned = [r["mean_fit_seconds"] for r in table if r["model"] == "Ours"]
        for r in table:
            r["fit_time_ratio_vs_learned"] = (
                round(r["mean_fit_seconds"] / np.mean(learned), 2) if learned else None
            )
        # learned against fixed noise at each beta: one-sided Fisher exact test of
        # "learned noise recovers the pairs more often"
        from scipy.stats import fisher_exact

        for b in args.betas_grouped:
            ours = next((r for r in table if r["model"] == "Ours" and r["beta"] == b), None)
            fixed = next((r for r in table if r["model"] == "Fixed Noise" and r["beta"] == b), None)
            if ours and fixed:
                counts = [
                    [ours["successes"], ours["trials"] - ours["successes"]],
                    [fixed["successes"], fixed["trials"] - fixed["successes"]],
                ]
                ours["fisher_p_learned_gt_fixed"] = round(
                    float(fisher_exact(counts, alternative="greater").pvalue), 4
                )
        summary["grouped_mnist_table"] = table
    summary["protocol"] = {
        "images": f"{len(X)} MNIST images from {args.data_home or 'get_data_home()'}/mnist",
        "split": f"60/20/20 train/valid/test, np.random.RandomState({args.split_seed}).permutation",
        "n_train_valid_test": [int(len(s)) for s in splits],
        "model": "HierarchicalIBClassifier, encoder 784-32-32-D (ReLU), linear heads, "
        f"D={args.latent_dim}, scale_inputs=False, pixels "
        + (
            f"(x - {AUTHORS_MEAN}) / {AUTHORS_STD} (the authors' normalisation)"
            if args.pixels == "authors"
            else "in [0, 1] (the authors normalise with mean 0.1307, std 0.3081)"
        ),
        "evaluation": "accuracy with W = Z (predict noise='mean') and with one posterior "
        "sample W = Z + sigma * eps per image (noise='sample', random_state=0; the paper)",
        "training": f"Adam lr={args.lr}, log_var_lr_scale={args.log_var_lr_scale}, "
        f"batch {args.batch_size}, batching={args.batching!r}, fixed epochs "
        f"(grouped {args.epochs_grouped}, multimnist {args.epochs_multimnist}, "
        f"fixed-noise stage 2 {args.refit_epochs or args.epochs_grouped}), "
        "no early stopping",
        "grouped": "groups [a,b,c],[a,b,d],[e,f,g],[e,f,h] from RandomState(seed*1000+trial)."
        "permutation(10); success = max within-pair < min between-pair L1 distance",
        "multimnist": "pixel-max overlay of two different-class digits, first shifted up-left, "
        "second down-right by 2-4 px per axis; composites built per split "
        f"({args.multimnist_per_image} per training image, 1 per valid/test image)",
        "trials": args.trials,
        "first_trial": args.first_trial,
        "seed": args.seed,
        "device": "cpu",
        "n_jobs": args.n_jobs,
        "total_seconds": None if total_seconds is None else round(total_seconds, 1),
    }
    summary["environment"] = _common.environment()
    return summary


def _mean_of(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(float(np.mean(values)), 4) if values else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-home", default=None)
    p.add_argument("--experiment", choices=["all", "multimnist", "grouped"], default="all")
    p.add_argument("--trials", type=int, default=25)
    p.add_argument(
        "--first-trial",
        type=int,
        default=0,
        help="index of the first trial (to extend a finished run with new trials)",
    )
    p.add_argument("--epochs-grouped", type=int, default=16)
    p.add_argument("--epochs-multimnist", type=int, default=15)
    p.add_argument(
        "--multimnist-per-image",
        type=int,
        default=2,
        help="training composites per training image (each image is the first digit this often)",
    )
    p.add_argument(
        "--refit-epochs",
        type=int,
        default=8,
        help="second-stage epochs of the fixed-noise protocol",
    )
    p.add_argument("--betas-grouped", type=float, nargs="+", default=[0.1, 0.05, 0.01])
    p.add_argument(
        "--betas-multimnist", nargs="+", default=["no noise", "0", "1e-4", "1e-3", "1e-2", "1e-1"]
    )
    p.add_argument("--modes", nargs="+", choices=["learned", "fixed"], default=["learned", "fixed"])
    p.add_argument("--latent-dim", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--log-var-lr-scale", type=float, default=10.0)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument(
        "--batching",
        choices=["task", "mixed"],
        default="mixed",
        help="one task per step, or rows of every task in each step",
    )
    p.add_argument(
        "--pixels",
        choices=["unit", "authors"],
        default="unit",
        help="pixels in [0, 1], or normalised with the authors' mean 0.1307 and std 0.3081",
    )
    p.add_argument("--out", default=None, help="also write the JSON rows to this file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--figure", default=None, help="save the Figure-2-like heatmap here")
    p.add_argument(
        "--summarize",
        default=None,
        help="only print the summary of the JSON rows in this file (a finished run's output)",
    )
    args = p.parse_args(argv)
    if args.summarize:
        from skmtl.datasets.mnist import load_mnist

        with open(args.summarize) as fh:
            rows = [json.loads(line) for line in fh if '"experiment"' in line]
        X, _ = load_mnist(args.data_home)
        summary = summarize(rows, args, X, _split(len(X), args.split_seed), None)
        print(json.dumps(summary), flush=True)
        if args.figure:
            _figure(rows, args.figure, beta=max(args.betas_grouped))
        return summary

    _setup_threads()
    from joblib import Parallel, delayed

    from skmtl.datasets.mnist import load_mnist

    t_start = time.perf_counter()
    X, y = load_mnist(args.data_home)
    splits = _split(len(X), args.split_seed)
    par = Parallel(n_jobs=args.n_jobs, return_as="generator")
    rows = []
    emitter = _common.JsonEmitter(args.out)

    def emit(row):
        rows.append(row)
        emitter(row)

    if args.experiment in ("all", "multimnist"):
        jobs = [delayed(_multimnist_job)(args, X, y, splits, b) for b in args.betas_multimnist]
        for row in par(jobs):
            emit(row)
    if args.experiment in ("all", "grouped"):
        jobs = [
            delayed(_grouped_job)(args, X, y, splits, t, b, m)
            for b in args.betas_grouped
            for t in range(args.first_trial, args.first_trial + args.trials)
            for m in args.modes
        ]
        for row in par(jobs):
            emit(row)
    if args.figure:
        _figure(rows, args.figure, beta=max(args.betas_grouped))

    summary = summarize(rows, args, X, splits, time.perf_counter() - t_start)
    emitter(summary)
    emitter.close()
    return summary


if __name__ == "__main__":
    main()
