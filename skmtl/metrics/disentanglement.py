"""Supervised disentanglement metrics: MIG, SAP, DCI and the FactorVAE score.

Every metric compares a learned representation ``codes`` (n_samples, n_codes) with the
ground-truth generative ``factors`` (n_samples, n_factors) of the same rows. They are the
metrics used by Locatello et al. (2019, ``disentanglement_lib``) and in the study "On the
relationship between disentanglement and multi-task learning" (Appendix B). Only numpy and
scikit-learn are used, so any representation can be scored: the ``transform`` of a fitted skmtl
estimator, PCA scores, a VAE mean, ...

All scores are "higher is better" and lie in ``[0, 1]``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Lasso
from sklearn.metrics import mutual_info_score
from sklearn.tree import DecisionTreeClassifier

__all__ = [
    "discretize",
    "mutual_info_gap",
    "sap_score",
    "dci",
    "factor_vae_score",
    "dataset_sampler",
]


# --------------------------------------------------------------------------- validation
def _check_pair(factors, codes, *, name="codes"):
    factors = _as_2d(factors, "factors")
    codes = _as_2d(codes, name)
    if factors.shape[0] != codes.shape[0]:
        raise ValueError(
            f"factors and {name} must have the same number of rows; got "
            f"{factors.shape[0]} and {codes.shape[0]}"
        )
    if factors.shape[0] < 2:
        raise ValueError(f"need at least 2 rows, got {factors.shape[0]}")
    _check_non_constant(factors)
    return factors, codes


def _as_2d(a, name):
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array-like: {exc}") from None
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_columns); got shape {a.shape}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _check_non_constant(factors):
    const = np.flatnonzero(np.ptp(factors, axis=0) == 0)
    if const.size:
        raise ValueError(
            f"factor column(s) {const.tolist()} are constant; a constant factor carries no "
            "information and the metric is undefined for it: drop these columns"
        )


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)


def _split(n, test_size, rng):
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    perm = rng.permutation(n)
    n_test = max(1, int(round(n * test_size)))
    if n - n_test < 2:
        raise ValueError(f"too few rows ({n}) for a train/test split with test_size={test_size}")
    return perm[n_test:], perm[:n_test]


# --------------------------------------------------------------------------- discretisation
def discretize(a, n_bins=20):
    """Discretise each column into ``n_bins`` equal-width bins (``disentanglement_lib`` style).

    Columns with at most ``n_bins`` distinct values are only relabelled ``0..k-1`` (no
    information is lost), wider columns are cut into ``n_bins`` equal-width bins between their
    minimum and maximum.

    Parameters
    ----------
    a : array-like of shape (n_samples, n_columns)
    n_bins : int, default=20

    Returns
    -------
    ndarray of int64, shape (n_samples, n_columns)

    Examples
    --------
    >>> import numpy as np
    >>> discretize(np.array([[0.0], [0.5], [1.0]]), n_bins=3).ravel().tolist()
    [0, 1, 2]
    >>> int(discretize(np.linspace(0, 1, 100)[:, None], n_bins=4).max())
    3
    """
    a = _as_2d(a, "a")
    if not isinstance(n_bins, numbers.Integral) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    out = np.empty(a.shape, dtype=np.int64)
    for j in range(a.shape[1]):
        col = a[:, j]
        uniq, inv = np.unique(col, return_inverse=True)
        if uniq.size <= n_bins:
            out[:, j] = inv.ravel()
        else:
            edges = np.histogram_bin_edges(col, bins=n_bins)
            out[:, j] = np.clip(np.digitize(col, edges[1:-1]), 0, n_bins - 1)
    return out


def _mutual_info_matrix(factors_d, codes_d):
    """MI (nats) between every code column (rows) and every factor column (columns)."""
    m = np.zeros((codes_d.shape[1], factors_d.shape[1]))
    for i in range(codes_d.shape[1]):
        for j in range(factors_d.shape[1]):
            m[i, j] = mutual_info_score(factors_d[:, j], codes_d[:, i])
    return m


# --------------------------------------------------------------------------- MIG
def mutual_info_gap(factors, codes, *, n_bins=20, return_per_factor=False):
    """Mutual information gap (Chen et al., 2018).

    For every factor ``z_k`` the mutual information with each code dimension ``c_j`` is
    estimated on discretised values; the gap between the two most informative code dimensions
    is divided by the factor's entropy ``H(z_k)`` and averaged over factors::

        MIG = 1/K sum_k (I(z_k; c_(1)) - I(z_k; c_(2))) / H(z_k)

    This is the definition of Chen et al. and of ``disentanglement_lib`` (the study's Appendix B
    writes the normaliser as the sum of the MIs; we follow the implementation it used).

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
        Ground-truth factors. Factors with more than ``n_bins`` distinct values are discretised
        into ``n_bins`` equal-width bins.
    codes : array-like of shape (n_samples, n_codes)
        Representation to score; discretised into ``n_bins`` equal-width bins per column.
    n_bins : int, default=20
    return_per_factor : bool, default=False
        Also return the per-factor gaps.

    Returns
    -------
    score : float in [0, 1]
        1 when each factor is captured by exactly one code dimension (and fully), ~0 for codes
        unrelated to the factors. With a single code dimension the second-best MI is 0.
    per_factor : ndarray of shape (n_factors,)
        Only when ``return_per_factor=True``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 5, size=(2000, 3)).astype(float)
    >>> mutual_info_gap(z, z[:, ::-1] * 2.0) > 0.99
    True
    >>> mutual_info_gap(z, rng.normal(size=(2000, 3))) < 0.05
    True
    """
    factors, codes = _check_pair(factors, codes)
    fd = discretize(factors, n_bins)
    cd = discretize(codes, n_bins)
    m = _mutual_info_matrix(fd, cd)
    entropy = np.array([mutual_info_score(fd[:, j], fd[:, j]) for j in range(fd.shape[1])])
    top = np.sort(m, axis=0)[::-1]
    second = top[1] if top.shape[0] > 1 else np.zeros(top.shape[1])
    per_factor = np.clip((top[0] - second) / entropy, 0.0, 1.0)
    score = float(per_factor.mean())
    return (score, per_factor) if return_per_factor else score


# --------------------------------------------------------------------------- SAP
def sap_score(
    factors,
    codes,
    *,
    discrete_factors=False,
    test_size=0.3,
    random_state=0,
    return_matrix=False,
):
    """Separated attribute predictability (Kumar et al., 2018).

    A score ``S[j, k]`` is computed for every code dimension ``j`` and factor ``k``:

    - continuous factors (default): the R^2 of a linear regression of ``z_k`` on ``c_j`` alone,
      i.e. the squared Pearson correlation (``disentanglement_lib``'s continuous branch);
    - ``discrete_factors=True``: the balanced test accuracy of a decision tree
      (``min_samples_leaf=10``) predicting the class of ``z_k`` from ``c_j`` alone (the
      study's Appendix B), rescaled so that chance level is 0:
      ``(acc - 1/n_classes) / (1 - 1/n_classes)``, clipped at 0.

    SAP is the mean over factors of the gap between the two largest scores::

        SAP = 1/K sum_k S[(1), k] - S[(2), k]

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
    codes : array-like of shape (n_samples, n_codes)
    discrete_factors : bool, default=False
    test_size : float, default=0.3
        Held-out fraction for the discrete branch.
    random_state : int, Generator or None, default=0
    return_matrix : bool, default=False
        Also return ``S`` (n_codes, n_factors).

    Returns
    -------
    score : float in [0, 1]
        1 when every factor is predictable from exactly one code dimension and not at all
        from the others; 0 when two dimensions predict it equally well or none does.
    matrix : ndarray of shape (n_codes, n_factors)
        Only when ``return_matrix=True``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(size=(1000, 2))
    >>> round(sap_score(z, 3 * z[:, ::-1] + 1), 2)
    1.0
    >>> sap_score(z, rng.normal(size=(1000, 2))) < 0.05
    True
    """
    factors, codes = _check_pair(factors, codes)
    n_codes, n_factors = codes.shape[1], factors.shape[1]
    S = np.zeros((n_codes, n_factors))
    if not discrete_factors:
        zc = factors - factors.mean(0)
        cc = codes - codes.mean(0)
        cov = cc.T @ zc / len(factors)
        var_c = (cc**2).mean(0)
        var_z = (zc**2).mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            S = cov**2 / (var_c[:, None] * var_z[None, :])
        S[var_c == 0, :] = 0.0
        S = np.nan_to_num(S)
    else:
        rng = _rng(random_state)
        tr, te = _split(len(factors), test_size, rng)
        for k in range(n_factors):
            y = np.unique(factors[:, k], return_inverse=True)[1].ravel()
            n_classes = y.max() + 1
            chance = 1.0 / n_classes
            for j in range(n_codes):
                tree = DecisionTreeClassifier(min_samples_leaf=10, random_state=0)
                tree.fit(codes[tr, j : j + 1], y[tr])
                pred = tree.predict(codes[te, j : j + 1])
                acc = _balanced_accuracy(y[te], pred)
                S[j, k] = max(0.0, (acc - chance) / (1.0 - chance))
    top = np.sort(S, axis=0)[::-1]
    second = top[1] if n_codes > 1 else np.zeros(n_factors)
    score = float(np.mean(top[0] - second))
    return (score, S) if return_matrix else score


def _balanced_accuracy(y_true, y_pred):
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


# --------------------------------------------------------------------------- DCI
def dci(
    factors,
    codes,
    *,
    estimator="gbt",
    test_size=0.3,
    alpha=0.01,
    n_estimators=50,
    max_train=5000,
    random_state=0,
    return_importance=False,
):
    """Disentanglement, completeness and informativeness (Eastwood & Williams, 2018).

    One regressor per (standardised) factor is fitted on the (standardised) codes. Its
    importance weights form the matrix ``R[j, k] >= 0`` (code ``j``, factor ``k``):

    - ``estimator="gbt"`` (default, as ``disentanglement_lib``): ``feature_importances_`` of a
      ``GradientBoostingRegressor`` (``n_estimators`` trees of depth 3);
    - ``estimator="lasso"`` (Eastwood & Williams): ``|coef_|`` of a ``Lasso(alpha)``.

    With ``P = R / R.sum(axis=1)`` (per code) and ``Q = R / R.sum(axis=0)`` (per factor):

    - disentanglement: ``D_j = 1 - H_K(P[j])`` (entropy in base K = n_factors), averaged with
      weights ``R[j].sum() / R.sum()``;
    - completeness: ``C_k = 1 - H_J(Q[:, k])`` (base J = n_codes), averaged over factors;
    - informativeness: mean over factors of the test R^2 of the regressor, clipped to [0, 1]
      (1 = factors perfectly predictable from the codes, 0 = no better than predicting the
      mean). ``disentanglement_lib`` reports classification accuracy of discrete factors
      instead; R^2 makes random codes score ~0 for any factor type.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
    codes : array-like of shape (n_samples, n_codes)
    estimator : {"gbt", "lasso"}, default="gbt"
    test_size : float, default=0.3
        Held-out fraction used for informativeness.
    alpha : float, default=0.01
        Lasso penalty (``estimator="lasso"``).
    n_estimators : int, default=50
        Number of boosted trees (``estimator="gbt"``).
    max_train : int or None, default=5000
        Training rows are subsampled to at most this many (keeps the GBT fast).
    random_state : int, Generator or None, default=0
    return_importance : bool, default=False
        Also return ``R`` (n_codes, n_factors).

    Returns
    -------
    result : dict
        ``{"disentanglement": float, "completeness": float, "informativeness": float}``,
        plus ``"importance"`` when ``return_importance=True``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(size=(1000, 3))
    >>> r = dci(z, z[:, [2, 0, 1]] * 5)
    >>> r["disentanglement"] > 0.9 and r["completeness"] > 0.9 and r["informativeness"] > 0.9
    True
    """
    factors, codes = _check_pair(factors, codes)
    if estimator not in ("gbt", "lasso"):
        raise ValueError(f"estimator must be 'gbt' or 'lasso', got {estimator!r}")
    rng = _rng(random_state)
    tr, te = _split(len(factors), test_size, rng)
    if max_train is not None and len(tr) > max_train:
        tr = tr[:max_train]
    z = (factors - factors[tr].mean(0)) / factors[tr].std(0).clip(1e-12)
    c_std = codes[tr].std(0)
    c = (codes - codes[tr].mean(0)) / np.where(c_std > 0, c_std, 1.0)
    n_codes, n_factors = c.shape[1], z.shape[1]
    R = np.zeros((n_codes, n_factors))
    info = np.zeros(n_factors)
    seed = int(rng.integers(2**31 - 1))
    for k in range(n_factors):
        if estimator == "gbt":
            model = GradientBoostingRegressor(
                n_estimators=n_estimators, max_depth=3, random_state=seed
            )
            model.fit(c[tr], z[tr, k])
            R[:, k] = model.feature_importances_
        else:
            model = Lasso(alpha=alpha, max_iter=5000)
            model.fit(c[tr], z[tr, k])
            R[:, k] = np.abs(model.coef_)
        resid = z[te, k] - model.predict(c[te])
        denom = np.sum((z[te, k] - z[te, k].mean()) ** 2)
        r2 = 1.0 - np.sum(resid**2) / denom if denom > 0 else 0.0
        info[k] = np.clip(r2, 0.0, 1.0)
    R = np.nan_to_num(np.abs(R))
    result = {
        "disentanglement": _dci_disentanglement(R),
        "completeness": _dci_completeness(R),
        "informativeness": float(info.mean()),
    }
    if return_importance:
        result["importance"] = R
    return result


def _entropy_base(p, base, axis):
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(p), 0.0)
    return -(p * logp).sum(axis=axis) / np.log(base)


def _dci_disentanglement(R):
    n_codes, n_factors = R.shape
    total = R.sum()
    if total <= 0:
        return 0.0
    if n_factors == 1:
        return 1.0
    row = R.sum(axis=1, keepdims=True)
    P = np.divide(R, row, out=np.full_like(R, 1.0 / n_factors), where=row > 0)
    D = 1.0 - _entropy_base(P, n_factors, axis=1)
    w = R.sum(axis=1) / total
    return float(np.clip(np.sum(w * D), 0.0, 1.0))


def _dci_completeness(R):
    n_codes, n_factors = R.shape
    if R.sum() <= 0:
        return 0.0
    if n_codes == 1:
        return 1.0
    col = R.sum(axis=0, keepdims=True)
    Q = np.divide(R, col, out=np.full_like(R, 1.0 / n_codes), where=col > 0)
    C = 1.0 - _entropy_base(Q, n_codes, axis=0)
    return float(np.clip(C.mean(), 0.0, 1.0))


# --------------------------------------------------------------------------- FactorVAE score
def dataset_sampler(factors, X):
    """Build a ``sample_fn`` for :func:`factor_vae_score` from a finite labelled dataset.

    ``sample_fn(n, factor, rng)`` returns ``n`` rows of ``X`` drawn uniformly with replacement;
    when ``factor`` is an int, a value of that factor is first drawn at random (from a random
    row, so values are weighted by frequency) and only rows sharing that value are drawn.
    Factors must be discrete (each value shared by several rows), as in dSprites.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
    X : array-like of shape (n_samples, ...)

    Returns
    -------
    sample_fn : callable ``(n, factor, rng) -> X_batch``

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5, dtype=float)
    >>> sample = dataset_sampler(z, z)
    >>> batch = sample(8, 0, np.random.default_rng(0))
    >>> bool(np.all(batch[:, 0] == batch[0, 0]))
    True
    """
    factors = _as_2d(factors, "factors")
    X = np.asarray(X)
    if len(X) != len(factors):
        raise ValueError(
            f"factors and X must have the same number of rows; got {len(factors)} and {len(X)}"
        )
    groups = []
    for k in range(factors.shape[1]):
        _, inv = np.unique(factors[:, k], return_inverse=True)
        inv = inv.ravel()
        order = np.argsort(inv, kind="stable")
        bounds = np.searchsorted(inv[order], np.arange(inv.max() + 2))
        groups.append((inv, order, bounds))

    def sample_fn(n, factor=None, rng=None):
        rng = _rng(rng)
        if factor is None:
            return X[rng.integers(0, len(X), size=n)]
        inv, order, bounds = groups[factor]
        v = inv[rng.integers(0, len(X))]
        members = order[bounds[v] : bounds[v + 1]]
        return X[members[rng.integers(0, len(members), size=n)]]

    return sample_fn


def factor_vae_score(
    sample_fn,
    encode_fn,
    n_factors,
    *,
    n_train_votes=800,
    n_eval_votes=400,
    batch_size=64,
    n_variance=5000,
    prune_threshold=0.05,
    random_state=0,
    return_details=False,
):
    """FactorVAE disentanglement score (Kim & Mnih, 2018) with the majority-vote classifier.

    Protocol (``disentanglement_lib``): codes are divided by their standard deviation over
    ``n_variance`` random samples; collapsed dimensions are ignored. ``disentanglement_lib``
    prunes dimensions whose standard deviation is below 0.05 in absolute terms (VAE means
    are on a unit scale); here the threshold is relative, ``std_j < prune_threshold *
    max_j std_j``, so that the score does not depend on the overall scale of an arbitrary
    representation (an untrained network's codes can all be far below 0.05).
    Each vote draws a factor ``k`` uniformly, a batch of ``batch_size`` observations in which
    factor ``k`` is fixed at a random value (all other factors vary), and records the pair
    ``(argmin_j Var[c_j / s_j], k)``. A majority-vote classifier maps each code dimension to
    the factor it was most often paired with; the score is its accuracy on ``n_eval_votes``
    fresh votes.

    Parameters
    ----------
    sample_fn : callable ``(n, factor, rng) -> observations``
        ``factor`` is None (free sampling) or the index of the factor to hold fixed at one
        random value for the whole batch. See :func:`dataset_sampler`.
    encode_fn : callable ``observations -> codes`` of shape (n, n_codes)
        E.g. ``estimator.transform`` (single task) or a function wrapping it.
    n_factors : int
    n_train_votes, n_eval_votes : int, default=800, 400
        The study used 10,000 votes; fewer give the same score to about +-0.02.
    batch_size : int, default=64
    n_variance : int, default=5000
        Samples used for the global standard deviation.
    prune_threshold : float, default=0.05
        Relative standard deviation under which a code dimension is ignored.
    random_state : int, Generator or None, default=0
    return_details : bool, default=False
        Also return the train accuracy and the vote matrix (n_codes, n_factors).

    Returns
    -------
    score : float in [0, 1]
        Eval accuracy of the majority vote. Chance is about ``1 / n_factors`` for codes that do
        not depend on the factors (the study reports ~0.2-0.6 for trained encoders); 0 when
        every code dimension collapsed.
    details : dict
        Only when ``return_details=True``: ``train_accuracy``, ``votes``, ``active``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 6, size=(3000, 3)).astype(float)
    >>> sample = dataset_sampler(z, z)
    >>> factor_vae_score(sample, lambda x: 2 * x[:, ::-1], 3, n_train_votes=100,
    ...                  n_eval_votes=50)
    1.0
    """
    if not isinstance(n_factors, numbers.Integral) or n_factors < 1:
        raise ValueError(f"n_factors must be a positive integer, got {n_factors!r}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2, got {batch_size!r}")
    rng = _rng(random_state)

    def encode(x):
        c = np.asarray(encode_fn(x), dtype=np.float64)
        if c.ndim == 1:
            c = c[:, None]
        if c.ndim != 2 or len(c) != len(x):
            raise ValueError(
                f"encode_fn must return an array of shape (n, n_codes); got {c.shape} for "
                f"{len(x)} inputs"
            )
        return c

    global_codes = encode(sample_fn(n_variance, None, rng))
    scale = global_codes.std(axis=0, ddof=1)
    active = (scale > 0) & (scale >= prune_threshold * scale.max())
    n_codes = global_codes.shape[1]
    if not active.any():
        details = {"train_accuracy": 0.0, "votes": np.zeros((n_codes, n_factors)), "active": active}
        return (0.0, details) if return_details else 0.0
    scale = np.where(active, scale, 1.0)
    active_idx = np.flatnonzero(active)

    def votes(n):
        mat = np.zeros((n_codes, n_factors), dtype=np.int64)
        for _ in range(n):
            k = int(rng.integers(0, n_factors))
            c = encode(sample_fn(batch_size, k, rng)) / scale
            var = c[:, active_idx].var(axis=0, ddof=1)
            mat[active_idx[np.argmin(var)], k] += 1
        return mat

    train = votes(n_train_votes)
    classifier = np.argmax(train, axis=1)
    train_acc = float(train[np.arange(n_codes), classifier].sum() / train.sum())
    ev = votes(n_eval_votes)
    eval_acc = float(ev[np.arange(n_codes), classifier].sum() / ev.sum())
    if return_details:
        return eval_acc, {"train_accuracy": train_acc, "votes": train, "active": active}
    return eval_acc
