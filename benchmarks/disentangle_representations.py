"""Do disentangled representations help multi-task learning? (the study's Section 4.3, App. F)

Reproduces Section 4.3 and Appendix F of "On the relationship between disentanglement and
multi-task learning" on the data of ``benchmarks/disentangle.py`` (``make_mixed_factors``
tabular data and ``make_sprites`` 32 x 32 images, 10 ``make_factor_tasks`` regression
tasks, 2,000 training / 1,000 test rows, data seed 0):

1. representations, each with a ``--latent-dim`` (8, the study's) code:

   - ``ae``, ``vae``, ``factor_vae``: :class:`skmtl.representations.AutoencoderTransformer`
     fitted on the training observations alone (no targets); the code is the encoder
     output / the posterior mean. Images: the conv encoder of ``disentangle.py`` and a
     mirrored transposed-conv decoder, Bernoulli reconstruction; tabular: MLP ``--hidden``
     on standardised features, squared-error reconstruction. Adam lr 1e-4, batch 64
     (the study's Section C.3), ``--ae-epochs`` passes.
   - ``multi-task``: the encoder of a multi-head hard-sharing network trained on the 10
     tasks (``disentangle.py``'s multi-head protocol with a ``--latent-dim`` code);
   - ``random``: the same network untrained;
   - ``ground-truth``: the factor values themselves (the study's "Ground Truth" row).

2. the representation analysis: MIG, FactorVAE score, SAP and DCI of every representation's
   test codes against the factor classes (skmtl's quantities and disentanglement_lib's,
   as ``disentangle.py --metrics both``; the study's Table 6 is in the latter);
3. downstream error: the codes frozen, a multi-head network (one head of 300-300-300 tanh
   per task, the study's Table 3 and Section C.3, on a linear map of the code) trained on the
   10 tasks of the training rows, ``disentangle.py``'s training protocol (Adam lr 1e-3,
   batch 256, early stopping); test RMSE / training std, mean over tasks (the study's Table 1,
   which reports unstandardised RMSE). The representation learners are fitted once
   (``--rep-seed``) and the downstream networks with ``--seeds`` seeds, as in the study
   ("We trained all regression models three times").

Prints one JSON row per (dataset, representation, seed), then aggregated rows and a summary.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/disentangle_representations.py --dataset tabular \\
        --json rep_tab.jsonl
    python benchmarks/disentangle_representations.py --report rep_tab.jsonl rep_spr.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import _common  # noqa: F401  (puts the checkout on sys.path)
import disentangle as dis
import numpy as np

from skmtl.representations import AutoencoderTransformer  # noqa: E402

AUTOENCODERS = ["ae", "vae", "factor_vae"]
REPRESENTATIONS = ["random", "multi-task", *AUTOENCODERS, "ground-truth"]


def fit_autoencoder(kind, data, args):
    """An unsupervised representation of the training observations; returns ``encode``."""
    params = dict(
        latent_dim=args.latent_dim,
        lr=args.ae_lr,
        max_epochs=args.ae_epochs,
        batch_size=args.ae_batch_size,
        beta=args.beta,
        gamma=args.gamma,
        discriminator_size=tuple(args.discriminator),
        random_state=args.rep_seed,
    )
    X = data["X_train"]
    if data["image_shape"] is not None:
        params.update(
            image_shape=data["image_shape"],
            conv_channels=tuple(args.conv_channels),
            reconstruction="bernoulli",
        )
        mean, std = 0.0, 1.0
    else:
        params.update(hidden_layer_sizes=tuple(args.hidden))
        mean, std = X.mean(0), X.std(0)
    est = AutoencoderTransformer(kind, **params).fit((X - mean) / std)
    info = {f"final_{k}": v for k, v in est.history_[-1].items()}
    return (lambda Z: est.transform((Z - mean) / std)), info


def fit_multitask_encoder(data, args, train):
    """The hard-sharing multi-head network on the 10 tasks (``train=False``: untrained)."""
    run = argparse.Namespace(**{**vars(args), "epochs": args.epochs})
    est = dis.make_estimator(run, data, "per_output", args.rep_seed)
    if train:
        est.fit(data["X_train"], data["Y_train"])
    else:
        est.initialize(data["X_train"], data["Y_train"])
    return est.transform, {"epochs": int(getattr(est, "n_iter_", 0))}


def representations(data, args):
    """name -> (codes_train, codes_test, info) for every requested representation."""
    out = {}
    for name in args.representations:
        t0 = time.perf_counter()
        if name == "ground-truth":
            out[name] = (data["factors_train"], data["factors_test"], {})
            continue
        if name in AUTOENCODERS:
            encode, info = fit_autoencoder(name, data, args)
        else:
            encode, info = fit_multitask_encoder(data, args, train=name == "multi-task")
        info["fit_seconds"] = round(time.perf_counter() - t0, 2)
        out[name] = (encode(data["X_train"]), encode(data["X_test"]), info)
        print(f"{name}: {info}", file=sys.stderr, flush=True)
    return out


def downstream(codes_train, codes_test, data, args, seed):
    """Test RMSE / train std of a multi-head network trained on frozen codes."""
    est = dis.make_estimator(
        args,
        {"image_shape": None},
        "per_output",
        seed,
        hidden_layer_sizes=(),
        latent_dim=codes_train.shape[1],
        activation="tanh",
    )
    t0 = time.perf_counter()
    est.fit(codes_train, data["Y_train"])
    seconds = time.perf_counter() - t0
    cols = list(range(data["Y_train"].shape[1]))
    err = dis.rmse(est, codes_test, data["Y_test"], data["Y_train"], cols)
    return err, round(seconds, 2), int(getattr(est, "n_iter_", 0))


def run_dataset(name, args, emit):
    data = dis.make_data(name, args.n_train, args.n_test, args.n_tasks, args.data_seed)
    reps = representations(data, args)
    metric_args = argparse.Namespace(fv_votes=args.fv_votes, metrics="both")
    rows = []
    for rep, (ctr, cte, info) in reps.items():
        scores = dis.score_codes(cte, data["z_test"], metric_args, args.rep_seed)
        for seed in range(args.seeds):
            err, secs, epochs = downstream(ctr, cte, data, args, seed)
            row = {"dataset": name, "representation": rep, "seed": seed, "rmse": err}
            row.update(downstream_seconds=secs, downstream_epochs=epochs, **scores, **info)
            rows.append(emit(row))
    return rows


def aggregate(rows):
    """{(dataset, representation): {column: (mean, std over seeds)}}."""
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["representation"]), []).append(r)
    keys = ["rmse", *dis.METRICS, *dis.DLIB_METRICS]
    return {
        g: {
            k: (float(np.mean([r[k] for r in rs])), float(np.std([r[k] for r in rs]))) for k in keys
        }
        for g, rs in groups.items()
    }


def markdown(agg):
    cols = ["rmse", "mig", "factor_vae", "sap_dlib", "dci_disentanglement_dlib",
            "dci_completeness_dlib", "dci_informativeness_dlib", "dci_disentanglement"]  # fmt: skip
    lines = []
    for dataset in dict.fromkeys(d for d, _ in agg):
        lines += [f"#### {dataset}", "", "| representation | " + " | ".join(cols) + " |"]
        lines.append("|---" * (len(cols) + 1) + "|")
        for rep in [r for r in REPRESENTATIONS if (dataset, r) in agg]:
            a = agg[(dataset, rep)]
            cells = [f"{a['rmse'][0]:.3f} ± {a['rmse'][1]:.3f}"]
            cells += [f"{a[c][0]:.3f}" for c in cols[1:]]
            lines.append(f"| {rep} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def report(files):
    rows = [json.loads(line) for f in files for line in Path(f).read_text().splitlines()]
    agg = aggregate([r for r in rows if "representation" in r])
    print(markdown(agg))
    return agg


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=["tabular", "sprites", "both"], default="both")
    p.add_argument("--representations", nargs="+", default=REPRESENTATIONS,
                   choices=REPRESENTATIONS)  # fmt: skip
    p.add_argument("--seeds", type=int, default=3, help="downstream network seeds")
    p.add_argument("--rep-seed", type=int, default=0, help="seed of the representations")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--n-tasks", type=int, default=10)
    p.add_argument("--latent-dim", type=int, default=8)
    p.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    p.add_argument("--conv-channels", type=int, nargs="+", default=[16, 32, 32, 64])
    p.add_argument("--ae-epochs", type=int, default=100, help="the study: 100")
    p.add_argument("--ae-batch-size", type=int, default=64)
    p.add_argument("--ae-lr", type=float, default=1e-4)
    p.add_argument("--beta", type=float, default=1.0, help="VAE KL weight")
    p.add_argument("--gamma", type=float, default=35.0, help="FactorVAE TC weight")
    p.add_argument("--discriminator", type=int, nargs=2, default=[1000, 6],
                   metavar=("UNITS", "LAYERS"))  # fmt: skip
    p.add_argument("--epochs", type=int, default=30, help="multi-task networks' max epochs")
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--fv-votes", type=int, default=800)
    p.add_argument("--json", default=None)
    p.add_argument("--report", nargs="+", default=None)
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    if args.report:
        report(args.report)
        return
    _common.pin_threads(1)
    warnings.filterwarnings("ignore")
    out = _common.JsonEmitter(args.json)

    def emit(row):
        return out({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})

    t_start = time.perf_counter()
    names = ["tabular", "sprites"] if args.dataset == "both" else [args.dataset]
    rows = [r for name in names for r in run_dataset(name, args, emit)]
    print(markdown(aggregate(rows)), file=sys.stderr)
    emit({
        "kind": "summary",
        "benchmark": "disentangle_representations",
        "protocol": {k: v for k, v in vars(args).items() if k not in ("json", "report")},
        "environment": _common.environment(),
        "wall_seconds": round(time.perf_counter() - t_start, 1),
    })  # fmt: skip
    out.close()


if __name__ == "__main__":
    main()
