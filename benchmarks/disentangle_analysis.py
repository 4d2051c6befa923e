"""What are the learned representations like? (the study's Section 4.2, App. D and Table 7)

Reproduces Section 4.2, Appendix D and Table 7 (Appendix I) of "On the relationship between
disentanglement and multi-task learning" on the data and encoders of
``benchmarks/disentangle.py`` (``make_mixed_factors`` tabular data, ``make_sprites``
32 x 32 images; 10 ``make_factor_tasks`` regression tasks; 2,000 training / 1,000 test rows,
data seed 0). Three encoders, all of ``disentangle.py``'s architecture and training, model
seed ``--seed``, chosen before any test row is seen (the study picked one seed and one
single-task network "randomly"):

- ``random``: the multi-head network untrained (PyTorch's default initialisation);
- ``single-task``: the network trained on task ``--single-task`` alone;
- ``multi-task``: the multi-head network (one 300-300-300 head per task) on the 10 tasks.

For each encoder, with its weights frozen:

1. **decoder** (Section 4.2, Table 4): a decoder from the code to the observation, trained
   on the training rows' codes with the mean squared error (the study's Section C.2: Adam,
   learning rate halved every fifth of the epochs, batch 64). Images: the transposed-conv
   :class:`skmtl.nn.autoencoders.ConvDecoder` mirroring the encoder's channels; tabular: an
   MLP ``--decoder-hidden`` on standardised features. The decoder's input is the code
   standardised with the training codes' mean and std (``--decoder-input raw``: as is).
   Reported on the test rows: MSE per
   pixel / feature, per image (summed over pixels) and ``1 - MSE / MSE(mean of the training
   rows)`` (the share of the test variance the decoder restores).
2. **latent traversals** (Section 4.2.2, App. D.3): test row ``--example``; each code
   component in turn set to -1, -0.9, ..., 1 (the study's) and, second scale, to its
   training mean + t * 2 std for the same 21 t (codes are not on a common scale), the
   others unchanged, decoded. Per component: ``spread`` = the mean over pixels of the
   variance of the 21 decoded rows, its ``share`` of the components' total, and the factor
   the component is matched with in Table 7 (the largest significant |Spearman rho| on the
   test codes). Per encoder: the largest share and the effective number of components
   ``1 / sum(share^2)`` (1: one component moves the output, d: all equally).
3. **UMAP** (Section 4.2.1, App. D.1): a 2-D ``umap.UMAP`` embedding of the test codes
   (``n_neighbors=15``, seeded); per factor, the 5-fold accuracy of a 10-nearest-neighbour
   classifier of the factor's class from the 2-D embedding (chance: the majority class),
   the same from the standardised codes themselves, and the trustworthiness of the
   embedding (10 neighbours). Needs ``umap-learn`` (``pip install 'skmtl[umap]'``);
   ``--no-umap`` skips it.
4. **Table 7**: :func:`skmtl.metrics.retrieved_components` of the test codes (alpha 0.05).

``--figures DIR`` writes the traversal, reconstruction and UMAP figures (matplotlib, the
``plot`` extra). Prints one JSON row per (dataset, encoder) and a summary; ``--report``
prints the markdown tables of JSONL files.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/disentangle_analysis.py --dataset sprites \\
        --json analysis_spr.jsonl --figures docs/img
    python benchmarks/disentangle_analysis.py --report analysis_tab.jsonl analysis_spr.jsonl
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
import torch

from skmtl.datasets.factors import SPRITE_FACTOR_NAMES  # noqa: E402
from skmtl.metrics import retrieved_components  # noqa: E402
from skmtl.nn.autoencoders import ConvDecoder  # noqa: E402
from skmtl.nn.mlp import MLP  # noqa: E402

ENCODERS = ["random", "single-task", "multi-task"]
TRAVERSAL = np.round(np.arange(-1.0, 1.0 + 1e-9, 0.1), 1)  # the study's -1..1, step 0.1
UMAP_HINT = "UMAP needs umap-learn: pip install 'skmtl[umap]' (or pip install umap-learn)"


def import_umap():
    """The ``umap`` module, or an ImportError that says what to install."""
    try:
        import umap
    except ImportError as exc:
        raise ImportError(f"{UMAP_HINT}; or run with --no-umap ({exc})") from None
    return umap


# --------------------------------------------------------------------------- encoders
def fit_encoder(name, data, args):
    """The frozen encoder ``name`` as ``encode(X) -> codes`` and its fit information."""
    Ytr = data["Y_train"]
    t0 = time.perf_counter()
    if name == "random":
        est = dis.make_estimator(args, data, "per_output", args.seed)
        est.initialize(data["X_train"], Ytr)
    elif name == "single-task":
        est = dis.make_estimator(args, data, "multi", args.seed)
        est.fit(data["X_train"], Ytr[:, args.single_task])
    elif name == "multi-task":
        est = dis.make_estimator(args, data, "per_output", args.seed)
        est.fit(data["X_train"], Ytr)
    else:
        raise ValueError(f"unknown encoder {name!r}; choose from {ENCODERS}")
    info = {
        "fit_seconds": round(time.perf_counter() - t0, 2),
        "epochs": int(getattr(est, "n_iter_", 0)),
    }
    return est.transform, info


# --------------------------------------------------------------------------- decoder
def make_decoder(latent_dim, n_features, data, args):
    if data["image_shape"] is not None:
        return ConvDecoder(data["image_shape"], 1, latent_dim, tuple(args.conv_channels))
    return MLP(latent_dim, tuple(args.decoder_hidden), n_features)


def fit_decoder(codes, X, data, args):
    """Train a decoder ``codes -> X`` with the MSE; returns ``decode`` and its loss curve.

    ``args.decoder_input == "standardized"``: the decoder sees the codes standardised with
    the training codes' mean and std (a fixed invertible map, so no information is added or
    lost; an untrained encoder's codes can have a std of 1e-3, too small for a few epochs of
    Adam to use); ``"raw"``: the codes as they are.
    """
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    shift, scale = np.zeros(codes.shape[1]), np.ones(codes.shape[1])
    if args.decoder_input == "standardized":
        shift, scale = codes.mean(0), codes.std(0)
        scale[scale == 0] = 1.0
    C = torch.as_tensor((codes - shift) / scale, dtype=torch.float32)
    T = torch.as_tensor(X, dtype=torch.float32)
    net = make_decoder(C.shape[1], T.shape[1], data, args)
    opt = torch.optim.Adam(net.parameters(), lr=args.decoder_lr)
    step = max(1, args.decoder_epochs // 5)  # the study: 500 epochs, halved every 100
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step, gamma=0.5)
    losses = []
    net.train()
    for _ in range(args.decoder_epochs):
        perm = torch.randperm(len(C), generator=gen)
        total = 0.0
        for i in range(0, len(C), args.decoder_batch_size):
            idx = perm[i : i + args.decoder_batch_size]
            loss = torch.nn.functional.mse_loss(net(C[idx]), T[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        sched.step()
        losses.append(total / len(C))
    net.eval()

    def decode(z):
        z = (np.asarray(z, dtype=np.float64) - shift) / scale
        with torch.no_grad():
            return net(torch.as_tensor(z, dtype=torch.float32)).numpy()

    return decode, losses


def reconstruction(decode, codes_test, X_test, X_train):
    """Test MSE per column and per row (summed), and the share of the variance restored."""
    err = (decode(codes_test) - X_test) ** 2
    base = (X_test - X_train.mean(0)) ** 2
    return {
        "recon_mse": float(err.mean()),
        "recon_sse_per_row": float(err.sum(1).mean()),
        "recon_mse_mean_baseline": float(base.mean()),
        "recon_r2": float(1.0 - err.mean() / base.mean()),
    }


# --------------------------------------------------------------------------- traversals
def traversals(decode, code, center=None, scale=None):
    """Decoded rows, shape (d, 21, n_features): component j set to each traversal value.

    ``center``/``scale`` None: the values themselves (the study's); else
    ``center[j] + t * scale[j]``.
    """
    d = len(code)
    out = []
    for j in range(d):
        z = np.repeat(code[None, :], len(TRAVERSAL), axis=0)
        z[:, j] = TRAVERSAL if center is None else center[j] + TRAVERSAL * scale[j]
        out.append(decode(z))
    return np.stack(out)


def traversal_summary(decoded, data_variance):
    """Per component the mean per-column variance over the traversal, its share, the spread.

    ``total_spread_rel``: the components' total spread over ``data_variance`` (the mean
    per-column variance of the observations): how much the traversals move the output,
    relative to how much the data vary.
    """
    spread = decoded.var(axis=1).mean(axis=1)
    total = float(spread.sum())
    share = spread / total if total > 0 else np.full(len(spread), 1.0 / len(spread))
    return {
        "spread": spread.tolist(),
        "share": share.tolist(),
        "total_spread": total,
        "total_spread_rel": total / data_variance,
        "max_share": float(share.max()),
        "effective_components": float(1.0 / np.sum(share**2)),
    }


# --------------------------------------------------------------------------- UMAP
def umap_analysis(codes, classes, args):
    """2-D UMAP embedding of ``codes``; kNN accuracy of each factor from it and from codes."""
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    umap = import_umap()
    reducer = umap.UMAP(n_components=2, n_neighbors=args.umap_neighbors, random_state=args.seed)
    emb = reducer.fit_transform(codes)
    knn = KNeighborsClassifier(n_neighbors=args.knn)
    cv = StratifiedKFold(5, shuffle=True, random_state=args.seed)
    acc_emb, acc_codes, chance = [], [], []
    for k in range(classes.shape[1]):
        y = classes[:, k].astype(int)
        acc_emb.append(float(cross_val_score(knn, emb, y, cv=cv).mean()))
        acc_codes.append(float(cross_val_score(knn, codes, y, cv=cv).mean()))
        chance.append(float(np.bincount(y).max() / len(y)))
    scores = {
        "umap_knn_acc": acc_emb,
        "codes_knn_acc": acc_codes,
        "knn_chance": chance,
        "umap_knn_acc_mean": float(np.mean(acc_emb)),
        "codes_knn_acc_mean": float(np.mean(acc_codes)),
        "umap_trustworthiness": float(trustworthiness(codes, emb, n_neighbors=args.knn)),
    }
    return emb, scores


# --------------------------------------------------------------------------- figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _strip(rows, shape):
    """Flat images side by side, one (h, n * w) array."""
    return np.concatenate(list(rows.reshape(-1, *shape)), axis=1)


def plot_traversals(name, results, shape, path, key):
    plt = _plt()
    enc = list(results)
    d = results[enc[0]][key].shape[0]
    fig, axes = plt.subplots(
        len(enc), 1, figsize=(len(TRAVERSAL) * 0.45 + 1.5, d * 0.45 * len(enc) + 0.4 * len(enc))
    )
    for ax, e in zip(np.atleast_1d(axes), enc):
        dec = results[e][key]
        grid = np.concatenate(
            [np.concatenate(list(row.reshape(-1, *shape)), axis=1) for row in dec]
        )
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}, {e}: rows = code components, columns = {key} values", fontsize=8)
        ax.set_yticks(np.arange(d) * shape[0] + shape[0] / 2, [str(j) for j in range(d)])
        ax.set_xticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def plot_reconstructions(name, originals, recons, shape, path):
    plt = _plt()
    rows = [originals, *recons.values()]
    labels = ["input", *recons]
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.1 * len(rows)))
    for ax, row, label in zip(axes, rows, labels):
        ax.imshow(
            np.concatenate(list(row.reshape(-1, *shape)), axis=1), cmap="gray", vmin=0, vmax=1
        )
        ax.set_ylabel(label, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name}: test images decoded from frozen codes", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def plot_umap(name, embeddings, classes, factor_names, path):
    plt = _plt()
    enc = list(embeddings)
    k = classes.shape[1]
    fig, axes = plt.subplots(len(enc), k, figsize=(2.2 * k, 2.2 * len(enc)), squeeze=False)
    for i, e in enumerate(enc):
        for j in range(k):
            ax = axes[i, j]
            emb = embeddings[e]
            ax.scatter(emb[:, 0], emb[:, 1], c=classes[:, j], s=2, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(factor_names[j], fontsize=8)
            if j == 0:
                ax.set_ylabel(e, fontsize=8)
    fig.suptitle(f"{name}: UMAP of the test codes, colour = factor class", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


FACTOR_NAMES = {
    "sprites": list(SPRITE_FACTOR_NAMES),
    "tabular": [f"factor {k}" for k in range(5)],
}


# --------------------------------------------------------------------------- driver
def run_dataset(name, args, emit):
    epochs = args.epochs or (30 if name == "tabular" else 15)
    run = argparse.Namespace(**{**vars(args), "epochs": epochs})
    data = dis.make_data(name, args.n_train, args.n_test, args.n_tasks, args.data_seed)
    images = data["image_shape"] is not None
    X_train, X_test = data["X_train"], data["X_test"]
    if not images:  # tabular: the decoder reconstructs standardised features
        mean, std = X_train.mean(0), X_train.std(0)
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    classes = data["z_test"]
    data_var = float(X_train.var(0).mean())
    results, embeddings, recon_rows = {}, {}, {}
    for enc in args.encoders:
        encode, info = fit_encoder(enc, data, run)
        c_train, c_test = encode(data["X_train"]), encode(data["X_test"])
        t0 = time.perf_counter()
        decode, losses = fit_decoder(c_train, X_train, data, run)
        info["decoder_seconds"] = round(time.perf_counter() - t0, 2)
        row = {"dataset": name, "encoder": enc, **info, "decoder_final_train_mse": losses[-1]}
        row.update(reconstruction(decode, c_test, X_test, X_train))
        rc = retrieved_components(classes, c_test, alpha=args.alpha)
        for key in ("n_retrieved", "n_matched_components", "mean_corr", "std_corr"):
            row[key] = rc[key]
        row.update(min_corr=rc["min_corr"], max_corr=rc["max_corr"])
        row["matched_factor"] = rc["matched_factor"].tolist()
        row["component_corr"] = rc["correlation"].tolist()
        row["code_std"] = c_test.std(0).tolist()
        code = c_test[args.example]
        raw = traversals(decode, code)
        scaled = traversals(decode, code, c_train.mean(0), 2 * c_train.std(0))
        for tag, dec in (("raw", raw), ("std", scaled)):
            row.update({f"trav_{tag}_{k}": v for k, v in traversal_summary(dec, data_var).items()})
        if not args.no_umap:
            t0 = time.perf_counter()
            embeddings[enc], scores = umap_analysis(c_test, classes, run)
            row.update(scores, umap_seconds=round(time.perf_counter() - t0, 2))
        results[enc] = {"raw": raw, "std": scaled}
        recon_rows[enc] = decode(c_test[: args.n_show])
        emit(row)
        print(f"{name} {enc}: recon R2 {row['recon_r2']:.3f}", file=sys.stderr, flush=True)
    if args.figures and images:
        out = Path(args.figures)
        out.mkdir(parents=True, exist_ok=True)
        shape = data["image_shape"]
        for key in ("raw", "std"):
            plot_traversals(name, results, shape, out / f"disentangle_traversal_{key}.png", key)
        plot_reconstructions(
            name, X_test[: args.n_show], recon_rows, shape, out / "disentangle_reconstructions.png"
        )
    if args.figures and embeddings:
        out = Path(args.figures)
        out.mkdir(parents=True, exist_ok=True)
        plot_umap(
            name, embeddings, classes, FACTOR_NAMES[name], out / f"disentangle_umap_{name}.png"
        )
    return epochs


def markdown(rows):
    """The reconstruction / traversal / UMAP / Table 7 tables of the JSON rows."""
    out = []
    for name in dict.fromkeys(r["dataset"] for r in rows):
        rs = [r for r in rows if r["dataset"] == name]
        out += [
            f"#### {name}",
            "",
            "| encoder | recon MSE | per row (sum) | 1 - MSE/MSE(mean) | factors retrieved "
            "| matched comps | mean corr | std | min | max | trav. max share (raw / std) "
            "| eff. comps (raw / std) | UMAP kNN acc | codes kNN acc | trustworthiness |",
            "|---" * 15 + "|",
        ]
        for r in rs:
            umap_cells = (
                f"{r['umap_knn_acc_mean']:.3f} | {r['codes_knn_acc_mean']:.3f} | "
                f"{r['umap_trustworthiness']:.3f}"
                if "umap_knn_acc_mean" in r
                else "- | - | -"
            )
            out.append(
                f"| {r['encoder']} | {r['recon_mse']:.4f} | {r['recon_sse_per_row']:.2f} | "
                f"{r['recon_r2']:.3f} | {r['n_retrieved']} / 5 | {r['n_matched_components']} | "
                f"{r['mean_corr']:.3f} | {r['std_corr']:.3f} | {r['min_corr']:.3f} | "
                f"{r['max_corr']:.3f} | {r['trav_raw_max_share']:.2f} / "
                f"{r['trav_std_max_share']:.2f} | {r['trav_raw_effective_components']:.1f} / "
                f"{r['trav_std_effective_components']:.1f} | {umap_cells} |"
            )
        out.append("")
        out.append("Per component (std-scale traversal share; matched factor, |rho|):")
        out.append("")
        for r in rs:
            cells = [
                f"{s:.2f} (f{m}, {c:.2f})" if m >= 0 else f"{s:.2f} (-, {c:.2f})"
                for s, m, c in zip(r["trav_std_share"], r["matched_factor"], r["component_corr"])
            ]
            out.append(f"- {r['encoder']}: " + ", ".join(cells))
        if "umap_knn_acc" in rs[0]:
            out.append("")
            out.append("UMAP kNN accuracy per factor (embedding / codes / chance):")
            out.append("")
            for r in rs:
                cells = [
                    f"{a:.2f} / {b:.2f} / {c:.2f}"
                    for a, b, c in zip(r["umap_knn_acc"], r["codes_knn_acc"], r["knn_chance"])
                ]
                out.append(f"- {r['encoder']}: " + ", ".join(cells))
        out.append("")
    return "\n".join(out)


def report(files):
    rows = []
    for f in files:
        rows += [json.loads(line) for line in Path(f).read_text().splitlines()]
    text = markdown([r for r in rows if "encoder" in r])
    print(text)
    return text


def _round(v):
    """5 significant digits (floats and lists of floats), for the JSON rows."""
    if isinstance(v, float):
        return float(f"{v:.5g}")
    if isinstance(v, list):
        return [_round(x) for x in v]
    return v


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", choices=["tabular", "sprites", "both"], default="both")
    p.add_argument("--encoders", nargs="+", choices=ENCODERS, default=ENCODERS)
    p.add_argument("--seed", type=int, default=0, help="model seed of the three encoders")
    p.add_argument("--single-task", type=int, default=0, help="the single-task network's task")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--n-tasks", type=int, default=10)
    p.add_argument("--epochs", type=int, default=None, help="encoders (30 tabular, 15 sprites)")
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--latent-dim", type=int, default=10)
    p.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    p.add_argument("--conv-channels", type=int, nargs="+", default=[16, 32, 32, 64])
    p.add_argument("--decoder-epochs", type=int, default=30, help="the study: 500")
    p.add_argument("--decoder-lr", type=float, default=1e-3, help="the study: 2e-4")
    p.add_argument("--decoder-batch-size", type=int, default=64)
    p.add_argument(
        "--decoder-input",
        choices=["standardized", "raw"],
        default="standardized",
        help="codes standardised with the training codes' statistics before the decoder",
    )
    p.add_argument("--decoder-hidden", type=int, nargs="+", default=[128, 128])
    p.add_argument("--example", type=int, default=0, help="test row of the traversals")
    p.add_argument("--n-show", type=int, default=8, help="test images in the figure")
    p.add_argument("--alpha", type=float, default=0.05, help="Table 7's significance level")
    p.add_argument("--umap-neighbors", type=int, default=15)
    p.add_argument("--knn", type=int, default=10)
    p.add_argument("--no-umap", action="store_true", help="skip the UMAP part")
    p.add_argument("--figures", default=None, help="folder for the PNG figures")
    p.add_argument("--json", default=None)
    p.add_argument("--report", nargs="+", default=None, help="only print tables of JSONL files")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    if args.report:
        return report(args.report)
    if not args.no_umap:
        import_umap()  # fail before training, with the install hint
    _common.pin_threads(1)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    out = _common.JsonEmitter(args.json)

    def emit(row):
        out({k: _round(v) for k, v in row.items()})

    names = ["tabular", "sprites"] if args.dataset == "both" else [args.dataset]
    t0 = time.perf_counter()
    epochs = {name: run_dataset(name, args, emit) for name in names}
    emit(
        {
            "kind": "summary",
            "benchmark": "disentangle_analysis",
            "protocol": {
                "encoders": args.encoders,
                "seed": args.seed,
                "single_task": args.single_task,
                "encoder_epochs": epochs,
                "rows": f"{args.n_train} train / {args.n_test} test, data seed {args.data_seed}",
                "decoder": f"{args.decoder_epochs} epochs, Adam lr {args.decoder_lr} halved "
                f"every {max(1, args.decoder_epochs // 5)}, batch {args.decoder_batch_size}, MSE, "
                f"{args.decoder_input} codes",
                "traversal": f"test row {args.example}, values -1..1 step 0.1 (raw) and "
                "train mean + t * 2 std (std)",
                "umap": None
                if args.no_umap
                else f"n_neighbors {args.umap_neighbors}, kNN k={args.knn}, 5-fold",
                "table7_alpha": args.alpha,
            },
            "environment": _common.environment(),
            "wall_seconds": round(time.perf_counter() - t0, 1),
        }
    )
    out.close()
    return None


if __name__ == "__main__":
    main()
