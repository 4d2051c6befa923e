"""New tasks on a fitted SVE model: ``add_tasks`` on PMLB against per-task baselines (issue 19).

Protocol (the PMLB one of ``BENCHMARKS.md``, with a held-out group of datasets):

* Datasets: the PMLB-159 of :mod:`sve_pmlb` (:func:`sve_pmlb.load_datasets`). Held out: the
  ``--n-held`` (20) smallest by rows (ties by name) of ``--draw-size`` (40) datasets drawn
  at random without replacement with ``numpy.random.default_rng(--draw-seed)`` (seed 0).
  The base is every other dataset (139), or with ``--max-datasets M`` the M smallest of
  them (a stated reduction for short sessions).
* Per split seed ``s`` (``--split-seeds``; the protocol reports 0, 1, 2): the stratified
  80/20 split of :func:`sve_pmlb.split_tasks` (training rows capped at 20,000).
* Models, all with default settings (nothing tuned on test rows; every selection inside a
  model uses validation rows of the training part):

  - ``add_tasks_lr<f>``: ``SharedVariableEmbeddingClassifier(random_state=--seed)`` fitted
    on the base datasets, then ``add_tasks`` of the held-out ones (shared network frozen)
    with ``lr = f x`` the model's ``lr`` for every factor of ``--lr-factors`` (1, 10; with
    ``--fine-tune`` also ``fine_tune=True``); ``add_tasks`` is the factor whose mean per-task
    best *validation* loss (rows of the training part) is lowest: no test row chooses it;
  - ``sve_alone``: the same estimator fitted on the held-out datasets only;
  - ``lr``, ``rf`` (and any of :data:`sve_pmlb.BASELINES` via ``--baselines``): per task,
    through :class:`~skmtl.PerTaskClassifier`, as in :mod:`sve_pmlb`.

* Time: wall time of the base fit, of ``add_tasks`` and of every other model; the ratio
  ``add_tasks`` / base fit (the base fit on the base datasets is a lower bound of the full
  refit on base + held-out, so the ratio is an upper bound of add_tasks / full refit), and
  with ``--full-refit`` the measured full refit on base + held-out.

Output: one JSON line per (split seed, held-out dataset) with every model's test accuracy, one
per (split seed, model) with wall time, and a summary (mean over split seeds of the mean test
accuracy over the held-out datasets, its standard error, wins, time ratios, environment).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sve_new_tasks.py --split-seeds 0 --out new.jsonl
    # fit and keep the base model first (long), then add the tasks from it
    OMP_NUM_THREADS=1 python benchmarks/sve_new_tasks.py --base-only --save-base base.pkl
    OMP_NUM_THREADS=1 python benchmarks/sve_new_tasks.py --load-base base.pkl --out new.jsonl
    python benchmarks/sve_new_tasks.py --smoke   # seconds: tiny sizes, plumbing only
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import _common  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from _common import JsonEmitter, environment, pin_threads


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n-held", type=int, default=20, help="held-out datasets added later")
    p.add_argument("--draw-size", type=int, default=40, help="random draw they come from")
    p.add_argument("--draw-seed", type=int, default=0)
    p.add_argument("--max-datasets", type=int, default=None, help="base: the M smallest")
    p.add_argument("--split-seeds", default="0", help="comma-separated; the protocol: 0,1,2")
    p.add_argument("--seed", type=int, default=0, help="model seed")
    p.add_argument("--baselines", default="lr,rf")
    p.add_argument("--fine-tune", action="store_true", help="also add_tasks(fine_tune=True)")
    p.add_argument(
        "--lr-factors",
        type=lambda v: [float(f) for f in v.split(",")],
        default=[1.0, 10.0],
        help="add_tasks lr = factor x the model's lr; the factor is chosen on validation loss",
    )
    p.add_argument("--full-refit", action="store_true", help="also time a refit on all")
    p.add_argument("--no-alone", action="store_true", help="skip the SVE fitted on the 20")
    p.add_argument("--max-train", type=int, default=20_000)
    p.add_argument("--save-base", default=None, help="pickle the base model (seed suffix)")
    p.add_argument("--load-base", default=None, help="use a pickled base model (seed suffix)")
    p.add_argument("--base-only", action="store_true", help="stop after the base fit")
    p.add_argument("--verbose", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--smoke", action="store_true", help="tiny synthetic run (tests)")
    p.add_argument("--out", default=None, help="also write the JSON lines to this file")
    return p.parse_args(argv)


def held_out_indices(sizes, names, n_held=20, draw_size=40, draw_seed=0):
    """``(base, held)`` task indices: the ``n_held`` smallest of a seeded random draw.

    Examples
    --------
    >>> held_out_indices([5, 1, 4, 2, 3], list("abcde"), n_held=2, draw_size=3)[1]
    [1, 4]
    """
    n = len(sizes)
    rng = np.random.default_rng(draw_seed)
    draw = rng.choice(n, size=min(draw_size, n), replace=False)
    held = sorted(draw.tolist(), key=lambda t: (sizes[t], names[t]))[:n_held]
    base = [t for t in range(n) if t not in set(held)]
    return base, sorted(held)


def _estimator(args, names=None):
    from skmtl.sve import SharedVariableEmbeddingClassifier

    if args.smoke:
        return SharedVariableEmbeddingClassifier(
            max_epochs=3, random_state=args.seed, device=args.device
        )
    return SharedVariableEmbeddingClassifier(
        random_state=args.seed, device=args.device, verbose=args.verbose
    )


def _tasks(pairs, names):
    from skmtl.tasks import Tasks

    return Tasks([x for x, _ in pairs], [y for _, y in pairs], names=names)


def _accuracies(preds, test):
    return np.array([float(np.mean(np.ravel(p) == y)) for p, (_, y) in zip(preds, test)])


def _timed_fit(args, pairs, names):
    clf = _estimator(args)
    t0 = time.perf_counter()
    clf.fit(_tasks(pairs, names))
    return clf, time.perf_counter() - t0


def base_model(args, seed, train, names):
    """The base model of split seed ``seed`` (fitted, or loaded) and its fit's wall time."""
    path = (
        f"{args.load_base or args.save_base}.seed{seed}"
        if (args.load_base or args.save_base)
        else None
    )
    if args.load_base:
        with open(path, "rb") as fh:
            saved = pickle.load(fh)
        return saved["model"], saved["wall_s"]
    clf, wall = _timed_fit(args, train, names)
    if args.save_base:
        with open(path, "wb") as fh:
            pickle.dump({"model": clf, "wall_s": wall, "names": names}, fh)
    return clf, wall


def _model_row(seed, name, wall, accs, **extra):
    return {
        "kind": "model",
        "split_seed": seed,
        "model": name,
        "wall_s": round(wall, 2),
        "mean_test_acc": round(float(np.mean(accs)), 4),
        **extra,
    }


def _added(base, held_train, held_names, lr_factor, fine_tune):
    """``add_tasks`` on a copy of the base model: (fitted copy, wall time, validation loss).

    The validation loss is the mean over the new tasks of their best per-task validation
    loss (rows of the training part), the quantity the learning rate is chosen on.
    """
    clf = pickle.loads(pickle.dumps(base))  # the base model stays as fitted
    t0 = time.perf_counter()
    clf.add_tasks(_tasks(held_train, held_names), lr=base.lr * lr_factor, fine_tune=fine_tune)
    wall = time.perf_counter() - t0
    valid = clf.add_tasks_history_[-1].get("valid_loss_per_task_best")
    return clf, wall, valid


def _variants(args):
    """``(name, lr factor, fine_tune)`` of every add_tasks run."""
    out = [(f"add_tasks_lr{f:g}", f, False) for f in args.lr_factors]
    if args.fine_tune:
        out += [(f"add_tasks_lr{f:g}_fine_tune", f, True) for f in args.lr_factors]
    return out


def run_seed(seed, tasks, base_idx, held_idx, args, emit):
    """Every model on split seed ``seed``: ``{model: per-held-dataset accuracy}``, walls."""
    from sve_pmlb import run_baseline, split_tasks

    train, test = split_tasks(tasks, args.max_train, seed=seed)
    names = list(tasks.names)
    base_names = [names[t] for t in base_idx]
    held_names = [names[t] for t in held_idx]
    held_train, held_test = [train[t] for t in held_idx], [test[t] for t in held_idx]
    base, base_wall = base_model(args, seed, [train[t] for t in base_idx], base_names)
    emit(
        {
            "kind": "base",
            "split_seed": seed,
            "wall_s": round(base_wall, 2),
            "datasets": len(base_idx),
            "steps": int(base.n_steps_),
            "epochs": int(base.n_iter_),
        }
    )
    if args.base_only:
        return None, None
    accs, walls = {}, {"base_fit": base_wall}
    valid = {}
    skipped = [np.zeros((0, train[t][0].shape[1])) for t in base_idx]  # base tasks: no rows
    for name, factor, fine_tune in _variants(args):
        clf, walls[name], valid[name] = _added(base, held_train, held_names, factor, fine_tune)
        preds = clf.predict(skipped + [x for x, _ in held_test])[len(base_idx) :]
        accs[name] = _accuracies(preds, held_test)
        emit(_model_row(seed, name, walls[name], accs[name], valid_loss=valid[name]))
    # the learning rate chosen on validation rows only (frozen stage; NaN-safe)
    chosen = min((v, k) for k, v in valid.items() if "fine_tune" not in k and v is not None)[1]
    accs["add_tasks"], walls["add_tasks"] = accs[chosen], walls[chosen]
    emit(_model_row(seed, "add_tasks", walls[chosen], accs[chosen], chosen_on_validation=chosen))
    if not args.no_alone:
        clf, walls["sve_alone"] = _timed_fit(args, held_train, held_names)
        accs["sve_alone"] = _accuracies(clf.predict([x for x, _ in held_test]), held_test)
        emit(_model_row(seed, "sve_alone", walls["sve_alone"], accs["sve_alone"]))
    for b in [b for b in args.baselines.split(",") if b]:
        accs[b], walls[b], _ = run_baseline(b, held_train, held_test, seed)
        emit(_model_row(seed, b, walls[b], accs[b]))
    if args.full_refit:
        order = [*base_idx, *held_idx]
        clf, walls["full_refit"] = _timed_fit(
            args, [train[t] for t in order], [names[t] for t in order]
        )
        preds = clf.predict(skipped + [x for x, _ in held_test])[len(base_idx) :]
        accs["full_refit"] = _accuracies(preds, held_test)
        emit(_model_row(seed, "full_refit", walls["full_refit"], accs["full_refit"]))
    for k, t in enumerate(held_idx):
        emit(
            {
                "kind": "dataset",
                "split_seed": seed,
                "dataset": names[t],
                "n_train": len(train[t][1]),
                "n_features": int(train[t][0].shape[1]),
                "test_acc": {m: round(float(a[k]), 4) for m, a in accs.items()},
            }
        )
    return accs, walls


def summarise(accs, walls, seeds):
    """Mean over split seeds of every model's mean held-out accuracy, SE, wins, time ratios."""
    models = list(accs[seeds[0]])
    out = {}
    for m in models:
        a = np.array([accs[s][m] for s in seeds])
        means = a.mean(1)
        row = {
            "mean_test_acc": round(float(means.mean()), 4),
            "se": round(float(means.std(ddof=1) / np.sqrt(len(seeds))), 4)
            if len(seeds) > 1
            else None,
            "per_seed": [round(float(v), 4) for v in means],
            "wall_s": round(float(np.mean([walls[s][m] for s in seeds])), 1),
        }
        if m.startswith("add_tasks"):
            row["wins_losses"] = {
                b: [
                    float(np.mean([np.sum(np.array(accs[s][m]) > accs[s][b]) for s in seeds])),
                    float(np.mean([np.sum(np.array(accs[s][m]) < accs[s][b]) for s in seeds])),
                ]
                for b in models
                if not b.startswith("add_tasks")
            }
            row["time_ratio_vs_base_fit"] = round(
                float(np.mean([walls[s][m] / walls[s]["base_fit"] for s in seeds])), 4
            )
            if "full_refit" in walls[seeds[0]]:
                row["time_ratio_vs_full_refit"] = round(
                    float(np.mean([walls[s][m] / walls[s]["full_refit"] for s in seeds])), 4
                )
        out[m] = row
    out["base_fit"] = {"wall_s": round(float(np.mean([walls[s]["base_fit"] for s in seeds])), 1)}
    return out


def smoke_tasks(n_tasks=8, seed=0):
    """Small synthetic tasks of different widths (plumbing runs without data)."""
    from skmtl.tasks import Tasks

    rng = np.random.default_rng(seed)
    Xs, ys = [], []
    for t in range(n_tasks):
        X = rng.normal(size=(30 + 5 * t, 2 + t % 3))
        Xs.append(X)
        ys.append((X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0).astype(int))
    return Tasks(Xs, ys, names=[f"smoke_{t}" for t in range(n_tasks)])


def _load(args):
    if args.smoke:
        args.n_held, args.draw_size, args.baselines = 3, 6, "lr"
        return smoke_tasks()
    from sve_pmlb import load_datasets

    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    if "SKMTL_DATA_HOME" not in os.environ and os.path.isdir(shared):
        os.environ["SKMTL_DATA_HOME"] = os.path.normpath(shared)
    tasks = load_datasets()
    if not tasks.n_tasks:
        raise SystemExit("no PMLB dataset found: is SKMTL_DATA_HOME set to the data folder?")
    return tasks


def main(argv=None):
    args = _parse(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    threads = pin_threads()
    t_start = time.perf_counter()
    tasks = _load(args)
    sizes, names = tasks.sizes.tolist(), list(tasks.names)
    base_idx, held_idx = held_out_indices(sizes, names, args.n_held, args.draw_size, args.draw_seed)
    if args.max_datasets:
        base_idx = sorted(sorted(base_idx, key=lambda t: (sizes[t], names[t]))[: args.max_datasets])
    seeds = [int(v) for v in args.split_seeds.split(",")]
    accs, walls = {}, {}
    with JsonEmitter(args.out) as emit:
        emit(
            {
                "kind": "held_out",
                "datasets": [names[t] for t in held_idx],
                "rows": [sizes[t] for t in held_idx],
                "base_datasets": len(base_idx),
            }
        )
        for seed in seeds:
            accs[seed], walls[seed] = run_seed(seed, tasks, base_idx, held_idx, args, emit)
        if args.base_only:
            return None
        summary = {"kind": "summary", "models": summarise(accs, walls, seeds)}
        summary["protocol"] = {
            "held_out": f"the {args.n_held} smallest of {args.draw_size} datasets drawn with "
            f"numpy.random.default_rng({args.draw_seed}).choice (no replacement)",
            "base": f"{len(base_idx)} datasets"
            + (f" (the {args.max_datasets} smallest of the rest)" if args.max_datasets else ""),
            "split": f"stratified 80/20, split seeds {seeds}; train capped at {args.max_train}",
            "model_seed": args.seed,
        }
        summary["total_wall_s"] = round(time.perf_counter() - t_start, 1)
        summary["environment"] = environment(device=args.device, threads_pinned=threads)
        return emit(summary)


if __name__ == "__main__":
    main()
