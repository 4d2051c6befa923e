"""Mutation check: does the test suite catch small deliberate mistakes in the math?

Each entry of :data:`MUTATIONS` is a one-line change to metric or model code (a plausible
slip: a missing normaliser, the wrong base of a logarithm, a variance used as a standard
deviation, ...). The script copies the working tree (tracked and untracked, not ignored files)
into a temporary folder once, then for each mutation: replaces the line, runs the tests that
should notice, records whether they failed ("caught") or passed ("SURVIVED"), and restores the
file. It first runs every selected test set on the unmodified copy, which must pass.

Run from the repository root (about 10-15 minutes for the whole list on 2 idle cores, the
whole-suite baseline included; much longer on a loaded machine)::

    python tools/mutation_check.py             # every mutation
    python tools/mutation_check.py --list      # names only
    python tools/mutation_check.py -k dci -k sap   # names containing "dci" or "sap"

Exit status 0 when every selected mutation is caught, 1 otherwise (2 for a broken setup, e.g.
a mutation whose original line no longer occurs exactly once: update the list with the code).
The default test suite does not run this script (it is slow); ``tests/test_mutation_check.py``
only checks that the list still applies to the code.

``SKMTL_DATA_HOME`` is passed on (default ``../shared/data`` beside the checkout), and
``../shared`` is linked beside the copy, as in CI, so the reference-value tests run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

METRIC_TESTS = ("tests/metrics",)
HIB_TESTS = ("tests/nn/test_hib_module.py", "tests/test_hib.py")
SVE_TESTS = (
    "tests/nn/test_attention.py",
    "tests/nn/test_sve_module.py",
    "tests/nn/test_sve_pooling.py",
)
REPR_TESTS = ("tests/nn/test_autoencoders.py", "tests/test_representations.py")
ADD_TASKS_TESTS = ("tests/test_sve_add_tasks.py",)
CORR_TESTS = ("tests/metrics/test_correlation.py",)
SELECTION_TESTS = ("tests/test_selection.py",)
# the whole suite (as pytest's default testpaths), its hypernetwork tests first so that -x
# stops early when they catch the change
WHOLE_SUITE = ("tests/test_hypernet.py", "tests/nn/test_hypernet_module.py", "tests", "skmtl")


@dataclass(frozen=True)
class Mutation:
    """A one-line change: ``old`` (must occur exactly once in ``path``) becomes ``new``."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    #: pytest -m expression (e.g. "not cuda" to add the slow tests); None keeps the
    #: project's default selection (no slow tests)
    markers: str | None = None


_D = "skmtl/metrics/disentanglement.py"
_A = "skmtl/nn/autoencoders.py"
_C = "skmtl/metrics/correlation.py"
MUTATIONS = [
    # --- the four changes of issue 21
    Mutation(
        "factor_vae-no-global-std",
        _D,
        "c = encode(sample_fn(batch_size, k, rng)) / scale",
        "c = encode(sample_fn(batch_size, k, rng))",
        METRIC_TESTS,
    ),
    Mutation(
        "dci-entropy-in-nats",
        _D,
        "return -(p * logp).sum(axis=axis) / np.log(base)",
        "return -(p * logp).sum(axis=axis)",
        METRIC_TESTS,
    ),
    Mutation(
        "sap-abs-corr-not-r2",
        _D,
        "S = cov**2 / (var_c[:, None] * var_z[None, :])",
        "S = np.abs(cov) / np.sqrt(var_c[:, None] * var_z[None, :])",
        METRIC_TESTS,
    ),
    Mutation(
        "hypernet-new-task-first-embedding",
        "skmtl/nn/hypernet.py",
        "emb = self.task_embeddings.mean(0, keepdim=True)",
        "emb = self.task_embeddings[:1]",
        WHOLE_SUITE,
    ),
    Mutation(
        "hypernet-one-input-layer-for-all-tasks",
        "skmtl/nn/hypernet.py",
        "w = take_rows(self.input_weight[:, : X.shape[1]], task)",
        "w = take_rows(self.input_weight[:, : X.shape[1]], task * 0)",
        ("tests/test_hypernet.py",),
    ),
    # --- more metric math
    Mutation(
        "mig-no-entropy-normaliser",
        _D,
        "per_factor = np.clip((top[0] - second) / entropy, 0.0, 1.0)",
        "per_factor = np.clip(top[0] - second, 0.0, 1.0)",
        METRIC_TESTS,
    ),
    Mutation(
        "mig-gap-to-smallest",
        _D,
        "second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])",
        "second = top[-1] if top.shape[0] > 1 else np.zeros(top.shape[1])",
        METRIC_TESTS,
    ),
    Mutation(
        "sap-gap-to-smallest",
        _D,
        "second = top[1] if S.shape[0] > 1 else np.zeros(S.shape[1])",
        "second = top[-1] if S.shape[0] > 1 else np.zeros(S.shape[1])",
        METRIC_TESTS,
    ),
    Mutation(
        "sap-svm-c-1",
        _D,
        'svm = LinearSVC(C=0.01, class_weight="balanced")',
        'svm = LinearSVC(C=1.0, class_weight="balanced")',
        METRIC_TESTS,
    ),
    Mutation(
        "dci-unweighted-disentanglement",
        _D,
        "w = R.sum(axis=1) / total if weighted",
        "w = np.full(n_rows, 1.0 / n_rows) if weighted",
        METRIC_TESTS,
    ),
    Mutation(
        "dci-entropy-base-of-the-other-dimension",
        _D,
        "score = 1.0 - _entropy_base(P, n_cols, axis=1)",
        "score = 1.0 - _entropy_base(P, n_rows, axis=1)",
        METRIC_TESTS,
    ),
    Mutation(
        "dci-informativeness-on-train-rows",
        _D,
        "info[k] = np.mean(model.predict(codes[te]) == y[te])",
        "info[k] = np.mean(model.predict(codes[tr]) == y[tr])",
        METRIC_TESTS,
    ),
    # --- HIB
    Mutation(
        "hib-kl-log-term-without-half",
        "skmtl/nn/hib.py",
        "kl = 0.5 * (ratio + mean_term - 1.0 - (noise_log_var - prior_log_var))",
        "kl = 0.5 * (ratio + mean_term - 1.0) - (noise_log_var - prior_log_var)",
        HIB_TESTS,
    ),
    Mutation(
        "hib-noise-std-is-variance",
        "skmtl/nn/hib.py",
        "std = torch.exp(0.5 * take_rows(self.noise_log_var, task))",
        "std = torch.exp(take_rows(self.noise_log_var, task))",
        HIB_TESTS,
    ),
    Mutation(
        "hib-penalty-ignores-beta",
        "skmtl/nn/hib.py",
        "penalty = (take_rows(self.beta, task) * self.kl(z, task)).mean()",
        "penalty = self.kl(z, task).mean()",
        HIB_TESTS,
    ),
    Mutation(
        "hib-per-task-input-all-through-task-0",
        "skmtl/nn/mlp.py",
        "return self.inputs[t](rows[:, : self.n_features[t]])",
        "return self.inputs[0](rows[:, : self.n_features[0]])",
        HIB_TESTS,
    ),
    Mutation(
        "hib-dissimilarity-l2",
        "skmtl/interpret/hib.py",
        "return np.abs(lv[:, None, :] - lv[None, :, :]).sum(-1)",
        "return np.sqrt(((lv[:, None, :] - lv[None, :, :]) ** 2).sum(-1))",
        HIB_TESTS,
    ),
    # --- SVE
    Mutation(
        "sve-attention-unscaled",
        "skmtl/nn/attention.py",
        "scores = Z @ S.t() / math.sqrt(self.embedding_dim)",
        "scores = Z @ S.t()",
        SVE_TESTS,
    ),
    Mutation(
        "sve-mean-pool-is-sum",
        "skmtl/nn/sve.py",
        "                pooled = pooled / F\n",
        "                pooled = pooled\n",
        SVE_TESTS,
    ),
    Mutation(
        "sve-mean-pool-by-width-not-observed-count",
        "skmtl/nn/sve.py",
        "pooled = pooled / mask.sum(1, keepdim=True).clamp_min(1).to(h.dtype)",
        "pooled = pooled / F",
        SVE_TESTS,
    ),
    Mutation(
        "sve-add-tasks-core-not-frozen",
        "skmtl/sve.py",
        "keep = {id(p) for p in params}",
        "keep = {id(p) for p in module.parameters()}",
        ADD_TASKS_TESTS,
    ),
    Mutation(
        "sve-add-tasks-every-task-gets-task-0-epoch",
        "skmtl/sve.py",
        "epoch = int(checkpoint.best_epoch_[t])",
        "epoch = int(checkpoint.best_epoch_[0])",
        ADD_TASKS_TESTS,
    ),
    Mutation(
        "sve-add-tasks-old-snapshots-overwritten",
        "skmtl/sve.py",
        "snapshots = {e: {**frozen_state, **s} for e, s in old.snapshots.items()}",
        "snapshots = {e: {**s, **frozen_state} for e, s in old.snapshots.items()}",
        ADD_TASKS_TESTS,
    ),
    # --- hard sharing and losses
    Mutation(
        "hard-sharing-one-head-offsets",
        "skmtl/nn/hard_sharing.py",
        "offsets = torch.tensor([0] + self.n_outputs[:-1]).cumsum(0)",
        "offsets = torch.tensor([0] * len(self.n_outputs))",
        ("tests/nn/test_hard_sharing_module.py",),
    ),
    Mutation(
        "task-mse-mean-over-all-columns",
        "skmtl/nn/losses.py",
        "return sq.sum() / valid.sum().clamp(min=1)",
        "return sq.mean()",
        ("tests/nn/test_losses.py",),
    ),
    Mutation(
        "squared-hinge-not-squared",
        "skmtl/nn/losses.py",
        "per_entry = torch.relu(1.0 - signs * output).pow(2) * valid",
        "per_entry = torch.relu(1.0 - signs * output) * valid",
        ("tests/nn/test_losses.py",),
    ),
    # --- representation learners (AE, VAE, FactorVAE)
    Mutation(
        "vae-kl-without-half",
        _A,
        "return 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1.0).sum(1)",
        "return (mean.pow(2) + log_var.exp() - log_var - 1.0).sum(1)",
        REPR_TESTS,
    ),
    Mutation(
        "vae-kl-log-var-sign",
        _A,
        "return 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1.0).sum(1)",
        "return 0.5 * (mean.pow(2) + log_var.exp() + log_var - 1.0).sum(1)",
        REPR_TESTS,
    ),
    Mutation(
        "vae-sample-std-is-variance",
        _A,
        "z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)",
        "z = mean + torch.randn_like(mean) * torch.exp(log_var)",
        REPR_TESTS,
    ),
    Mutation(
        "vae-objective-ignores-beta",
        _A,
        'return {"reconstruction": rec, "kl": kl, "loss": rec + beta * kl, "z": z}',
        'return {"reconstruction": rec, "kl": kl, "loss": rec + kl, "z": z}',
        REPR_TESTS,
    ),
    Mutation(
        "factor-vae-one-permutation-for-all-columns",
        _A,
        "return torch.stack([z[perm, j] for j, perm in enumerate(perms)], dim=1)",
        "return torch.stack([z[perms[0], j] for j, perm in enumerate(perms)], dim=1)",
        REPR_TESTS,
    ),
    Mutation(
        "factor-vae-tc-sign",
        _A,
        "return (logits[:, 0] - logits[:, 1]).mean()",
        "return (logits[:, 1] - logits[:, 0]).mean()",
        REPR_TESTS,
    ),
    Mutation(
        "factor-vae-discriminator-labels-swapped",
        _A,
        "F.cross_entropy(logits_q, zeros) + F.cross_entropy(logits_permuted, ones)",
        "F.cross_entropy(logits_q, ones) + F.cross_entropy(logits_permuted, zeros)",
        REPR_TESTS,
    ),
    Mutation(
        "factor-vae-gamma-ignored",
        "skmtl/representations.py",
        "loss = loss + self.gamma * tc",
        "loss = loss + tc",
        REPR_TESTS,
    ),
    # --- Spearman correlations and retrieved components (the study's Table 7)
    Mutation(
        "spearman-pearson-of-raw-values",
        _C,
        "rc = stats.rankdata(codes, axis=0)",
        "rc = codes.copy()",
        CORR_TESTS,
    ),
    Mutation(
        "spearman-p-value-wrong-df",
        _C,
        "df = n - 2",
        "df = n - 1",
        CORR_TESTS,
    ),
    Mutation(
        "retrieved-counts-components-not-factors",
        _C,
        '"n_retrieved": int(np.unique(matched[matched >= 0]).size),',
        '"n_retrieved": int(significant.sum()),',
        CORR_TESTS,
    ),
    Mutation(
        "retrieved-signed-correlation",
        _C,
        "abs_rho = np.abs(rho)",
        "abs_rho = rho",
        CORR_TESTS,
    ),
    Mutation(
        "refinement-forgets-the-joint-stage-selection",
        "skmtl/_selection.py",
        "if first is not None and first.best_epoch_ is not None:",
        "if False:",
        SELECTION_TESTS,
    ),
    Mutation(
        "refinement-stopping-ignores-row-weights",
        "skmtl/_selection.py",
        "w = np.ones(len(finite)) if self.weights is None else np.asarray(self.weights, float)",
        "w = np.ones(len(finite))",
        SELECTION_TESTS,
    ),
]


def _copy_tree(dest: Path) -> Path:
    """Copy the files git tracks or would track (not ignored) into ``dest/<repo name>``."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    repo = dest / ROOT.name
    for raw in filter(None, files):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (dest / "shared").symlink_to(shared, target_is_directory=True)
    return repo


def _environment() -> dict:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    default_data = ROOT.parent / "shared" / "data"
    if "SKMTL_DATA_HOME" not in env and default_data.is_dir():
        env["SKMTL_DATA_HOME"] = str(default_data)
    return env


def _pytest(repo: Path, tests, markers, env) -> tuple[int, str, float]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    if markers is not None:
        cmd += ["-m", markers]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return proc.returncode, lines[-1] if lines else "", time.perf_counter() - start


def check_applies(mutations=MUTATIONS, root=ROOT) -> list[str]:
    """Problems with the list: mutations whose original text is not found exactly once."""
    problems = []
    for m in mutations:
        count = (root / m.path).read_text().count(m.old)
        if count != 1 or m.old == m.new:
            problems.append(f"{m.name}: {m.path} contains the original text {count} times")
    return problems


def run(mutations, keep=False, baseline=True) -> int:
    problems = check_applies(mutations)
    if problems:
        print("\n".join(problems))
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="skmtl-mutation-"))
    env = _environment()
    try:
        repo = _copy_tree(tmp)
        where = subprocess.run(
            [sys.executable, "-c", "import skmtl; print(skmtl.__file__)"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not where.startswith(str(repo)):
            print(f"the copy does not import its own skmtl (got {where!r})")
            return 2
        test_sets = {(m.tests, m.markers) for m in mutations} if baseline else set()
        for tests, markers in sorted(test_sets, key=str):
            rc, last, secs = _pytest(repo, tests, markers, env)
            print(f"baseline {' '.join(tests)}: rc={rc} {last} ({secs:.0f} s)", flush=True)
            if rc != 0:
                return 2
        survived = []
        for m in mutations:
            target = repo / m.path
            original = target.read_text()
            target.write_text(original.replace(m.old, m.new))
            try:
                rc, last, secs = _pytest(repo, m.tests, m.markers, env)
            finally:
                target.write_text(original)
            verdict = "caught" if rc != 0 else "SURVIVED"
            if rc == 0:
                survived.append(m.name)
            print(f"{verdict:9s} {m.name:38s} rc={rc} {secs:5.0f} s  {last}", flush=True)
        n = len(mutations)
        print(
            f"\n{n - len(survived)} of {n} mutations caught"
            + (f"; survived: {survived}" * bool(survived))
        )
        return 1 if survived else 0
    finally:
        if keep:
            print(f"copy kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-k", action="append", default=[], help="run mutations whose name contains this"
    )
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the unmodified runs (only when those tests are known to pass)",
    )
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.k or any(k in m.name for k in args.k)]
    if args.list:
        for m in chosen:
            print(f"{m.name:38s} {m.path}")
        return 0
    if not chosen:
        print("no mutation matches")
        return 2
    return run(chosen, keep=args.keep, baseline=not args.no_baseline)


if __name__ == "__main__":
    raise SystemExit(main())
