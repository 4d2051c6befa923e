"""Supervised disentanglement metrics: MIG, SAP, DCI and the FactorVAE score.

Every metric compares a learned representation ``codes`` (n_samples, n_codes) with the
ground-truth generative ``factors`` (n_samples, n_factors) of the same rows. They are the
metrics used by Locatello et al. (2019, ``disentanglement_lib``) and in the study "On the
relationship between disentanglement and multi-task learning" (Appendix B). Only numpy and
scikit-learn are used, so any representation can be scored: the ``transform`` of a fitted skmtl
estimator, PCA scores, a VAE mean, ...

All scores are "higher is better" and lie in ``[0, 1]``.

``sap_score`` and ``dci`` take ``reference="skmtl"`` (default) or
``reference="disentanglement_lib"``. The second reproduces that library's estimators exactly
(``LinearSVC(C=0.01)`` accuracy for discrete SAP; ``GradientBoostingClassifier()`` on the raw
codes with accuracy as informativeness for DCI) and is the quantity the study reports. The
default is a different quantity, chosen for arbitrary (continuous or ordinal) factors; see
each function and ``docs/disentanglement.md``. MIG, continuous SAP and the FactorVAE score are
the same in both.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.linear_model import Lasso
from sklearn.metrics import mutual_info_score
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from skmtl._random import as_generator as _rng

__all__ = [
    "REFERENCES",
    "discretize",
    "mutual_info_gap",
    "sap_score",
    "dci",
    "factor_vae_score",
    "dataset_sampler",
]


#: Accepted values of the ``reference`` argument of :func:`sap_score` and :func:`dci`.
REFERENCES = ("skmtl", "disentanglement_lib")


# --------------------------------------------------------------------------- validation
def _check_reference(reference):
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    return reference


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


def _split(n, test_size, rng, shuffle=True):
    """Train and test row indices; ``shuffle=False``: the last ``test_size`` rows are test."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    n_test = max(1, int(round(n * test_size)))
    if n - n_test < 2:
        raise ValueError(f"too few rows ({n}) for a train/test split with test_size={test_size}")
    if not shuffle:
        return np.arange(n - n_test), np.arange(n - n_test, n)
    perm = rng.permutation(n)
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
    reference="skmtl",
    test_size=0.3,
    shuffle=True,
    random_state=0,
    return_matrix=False,
):
    """Separated attribute predictability (Kumar et al., 2018).

    A score ``S[j, k]`` is computed for every code dimension ``j`` and factor ``k``:

    - continuous factors (default, both references): the R^2 of a linear regression of
      ``z_k`` on ``c_j`` alone, i.e. the squared Pearson correlation (``disentanglement_lib``'s
      continuous branch, to rounding);
    - ``discrete_factors=True, reference="disentanglement_lib"``: the test accuracy of a
      ``LinearSVC(C=0.01, class_weight="balanced")`` predicting the class of ``z_k`` from
      ``c_j`` alone (``disentanglement_lib``'s discrete branch, used by the study's configs);
    - ``discrete_factors=True, reference="skmtl"``: the balanced test accuracy of a decision
      tree (``min_samples_leaf=10``) predicting the class of ``z_k`` from ``c_j`` alone (the
      description of Kumar et al. and of the study's Appendix B), rescaled so that chance level
      is 0: ``(acc - 1/n_classes) / (1 - 1/n_classes)``, clipped at 0. A different quantity
      from the library's: a tree can cut a code into any intervals (a linear one-vs-rest SVM
      with ``C=0.01`` on one feature separates few of 10 ordered classes), and raw accuracy
      has a chance level of ``1/n_classes`` that the gap only partly cancels.

    SAP is the mean over factors of the gap between the two largest scores::

        SAP = 1/K sum_k S[(1), k] - S[(2), k]

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
    codes : array-like of shape (n_samples, n_codes)
    discrete_factors : bool, default=False
    reference : {"skmtl", "disentanglement_lib"}, default="skmtl"
        Which discrete-branch estimator (see above); no effect on the continuous branch.
    test_size : float, default=0.3
        Held-out fraction for the discrete branch.
    shuffle : bool, default=True
        Draw the held-out rows at random (``random_state``); ``False``: the last rows are
        held out (as when the library scores separately drawn train and test samples).
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
    >>> zd = rng.integers(0, 2, size=(400, 2)).astype(float)  # binary factors, codes = factors
    >>> sap_score(zd, zd, discrete_factors=True)  # the other code scores chance, 0
    1.0
    >>> round(sap_score(zd, zd, discrete_factors=True, reference="disentanglement_lib"), 1)
    0.5
    """
    factors, codes = _check_pair(factors, codes)
    _check_reference(reference)
    if not discrete_factors:
        S = _sap_matrix_continuous(factors, codes)
    else:
        tr, te = _split(len(factors), test_size, _rng(random_state), shuffle)
        per_pair = _sap_svm_accuracy if reference == "disentanglement_lib" else _sap_tree_score
        S = np.zeros((codes.shape[1], factors.shape[1]))
        for k in range(factors.shape[1]):
            y = np.unique(factors[:, k], return_inverse=True)[1].ravel()
            for j in range(codes.shape[1]):
                S[j, k] = per_pair(codes[:, j : j + 1], y, tr, te)
    top = np.sort(S, axis=0)[::-1]
    second = top[1] if S.shape[0] > 1 else np.zeros(S.shape[1])
    score = float(np.mean(top[0] - second))
    return (score, S) if return_matrix else score


def _sap_matrix_continuous(factors, codes):
    """Squared correlation of every code column (rows) with every factor column."""
    zc = factors - factors.mean(0)
    cc = codes - codes.mean(0)
    cov = cc.T @ zc / len(factors)
    var_c = (cc**2).mean(0)
    var_z = (zc**2).mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        S = cov**2 / (var_c[:, None] * var_z[None, :])
    S[var_c == 0, :] = 0.0
    return np.nan_to_num(S)


def _sap_tree_score(code, y, tr, te):
    """skmtl: chance-corrected balanced accuracy of a decision tree on one code column."""
    chance = 1.0 / (y.max() + 1)
    tree = DecisionTreeClassifier(min_samples_leaf=10, random_state=0)
    tree.fit(code[tr], y[tr])
    acc = _balanced_accuracy(y[te], tree.predict(code[te]))
    return max(0.0, (acc - chance) / (1.0 - chance))


def _sap_svm_accuracy(code, y, tr, te):
    """disentanglement_lib: test accuracy of ``LinearSVC(C=0.01)`` on one code column."""
    svm = LinearSVC(C=0.01, class_weight="balanced")
    svm.fit(code[tr], y[tr])
    return float(np.mean(svm.predict(code[te]) == y[te]))


def _balanced_accuracy(y_true, y_pred):
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


# --------------------------------------------------------------------------- DCI
def dci(
    factors,
    codes,
    *,
    estimator="gbt",
    reference="skmtl",
    test_size=0.3,
    shuffle=True,
    alpha=0.01,
    n_estimators=None,
    max_train=None,
    random_state=0,
    return_importance=False,
):
    """Disentanglement, completeness and informativeness (Eastwood & Williams, 2018).

    One model per factor is fitted on the codes of the training rows. Its importance weights
    form the matrix ``R[j, k] >= 0`` (code ``j``, factor ``k``):

    - ``reference="disentanglement_lib"`` (the study's quantity): one
      ``GradientBoostingClassifier()`` (100 trees of depth 3) per factor, classes = the
      factor's distinct values, on the raw codes; ``R`` = its ``feature_importances_``;
      informativeness = mean test accuracy (``"informativeness_train"``: train accuracy).
    - ``reference="skmtl"`` (default): one regressor per standardised factor on standardised
      codes, ``estimator="gbt"``: ``feature_importances_`` of a ``GradientBoostingRegressor``
      (``n_estimators`` trees of depth 3) or ``estimator="lasso"`` (Eastwood & Williams):
      ``|coef_|`` of a ``Lasso(alpha)``; informativeness = mean over factors of the test R^2,
      clipped to [0, 1]. A different quantity from the library's: regression respects the
      order of ordinal factors (position, scale) and works for continuous ones, and R^2 is 0
      for uninformative codes whatever the number of classes (accuracy's chance level is
      ``1/n_classes``). The importances differ too: on a randomly rotated code of 5 discrete
      factors the library's D is about 0.15, this one's about 0.5.

    With ``P = R / R.sum(axis=1)`` (per code) and ``Q = R / R.sum(axis=0)`` (per factor):

    - disentanglement: ``D_j = 1 - H_K(P[j])`` (entropy in base K = n_factors), averaged with
      weights ``R[j].sum() / R.sum()``;
    - completeness: ``C_k = 1 - H_J(Q[:, k])`` (base J = n_codes), averaged over factors
      (weights ``R[:, k].sum() / R.sum()`` and ``1e-11`` added to ``R`` before normalising
      with ``reference="disentanglement_lib"``, as that library; the GBT columns all sum to 1,
      so the average is the same).

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
        With ``reference="disentanglement_lib"`` every distinct value is a class.
    codes : array-like of shape (n_samples, n_codes)
    estimator : {"gbt", "lasso"}, default="gbt"
        Only "gbt" with ``reference="disentanglement_lib"``.
    reference : {"skmtl", "disentanglement_lib"}, default="skmtl"
    test_size : float, default=0.3
        Held-out fraction used for informativeness.
    shuffle : bool, default=True
        Draw the held-out rows at random; ``False``: the last rows are held out.
    alpha : float, default=0.01
        Lasso penalty (``estimator="lasso"``).
    n_estimators : int or None, default=None
        Number of boosted trees; None: 50 (skmtl) or 100 (disentanglement_lib, sklearn's
        default).
    max_train : int or None, default=None
        Training rows are subsampled to at most this many; None: 5,000 (skmtl, keeps the
        GBT fast) or all (disentanglement_lib).
    random_state : int, Generator or None, default=0
    return_importance : bool, default=False
        Also return ``R`` (n_codes, n_factors).

    Returns
    -------
    result : dict
        ``{"disentanglement": float, "completeness": float, "informativeness": float}``,
        plus ``"informativeness_train"`` (disentanglement_lib) and ``"importance"`` when
        ``return_importance=True``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(size=(1000, 3))
    >>> r = dci(z, z[:, [2, 0, 1]] * 5)
    >>> r["disentanglement"] > 0.9 and r["completeness"] > 0.9 and r["informativeness"] > 0.9
    True
    >>> zd = rng.integers(0, 3, size=(300, 2)).astype(float)
    >>> r = dci(zd, zd[:, ::-1], reference="disentanglement_lib", n_estimators=5)
    >>> round(r["disentanglement"], 3), r["informativeness"]
    (1.0, 1.0)
    """
    factors, codes = _check_pair(factors, codes)
    _check_reference(reference)
    if estimator not in ("gbt", "lasso"):
        raise ValueError(f"estimator must be 'gbt' or 'lasso', got {estimator!r}")
    dlib = reference == "disentanglement_lib"
    if dlib and estimator != "gbt":
        raise ValueError("reference='disentanglement_lib' uses estimator='gbt' only")
    if max_train is None:
        max_train = None if dlib else 5000
    rng = _rng(random_state)
    tr, te = _split(len(factors), test_size, rng, shuffle)
    if max_train is not None and len(tr) > max_train:
        tr = tr[:max_train]
    seed = int(rng.integers(2**31 - 1))
    if dlib:
        n_estimators = 100 if n_estimators is None else n_estimators
        R, info, info_train = _dci_importance_classifier(factors, codes, tr, te, n_estimators, seed)
    else:
        n_estimators = 50 if n_estimators is None else n_estimators
        R, info = _dci_importance_regressor(
            factors, codes, tr, te, estimator, alpha, n_estimators, seed
        )
    R = np.nan_to_num(np.abs(R))
    eps = 1e-11 if dlib else 0.0
    result = {
        "disentanglement": _dci_disentanglement(R, eps=eps),
        "completeness": _dci_completeness(R, eps=eps, weighted=dlib),
        "informativeness": float(info.mean()),
    }
    if dlib:
        result["informativeness_train"] = float(info_train.mean())
    if return_importance:
        result["importance"] = R
    return result


def _dci_importance_regressor(factors, codes, tr, te, estimator, alpha, n_estimators, seed):
    """skmtl: regressor per standardised factor; importances and clipped test R^2."""
    z = (factors - factors[tr].mean(0)) / factors[tr].std(0).clip(1e-12)
    c_std = codes[tr].std(0)
    c = (codes - codes[tr].mean(0)) / np.where(c_std > 0, c_std, 1.0)
    R = np.zeros((c.shape[1], z.shape[1]))
    info = np.zeros(z.shape[1])
    for k in range(z.shape[1]):
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
    return R, info


def _dci_importance_classifier(factors, codes, tr, te, n_estimators, seed):
    """disentanglement_lib: GBT classifier per factor on raw codes; test/train accuracy."""
    R = np.zeros((codes.shape[1], factors.shape[1]))
    info = np.zeros(factors.shape[1])
    info_train = np.zeros(factors.shape[1])
    for k in range(factors.shape[1]):
        y = factors[:, k]
        model = GradientBoostingClassifier(n_estimators=n_estimators, random_state=seed)
        model.fit(codes[tr], y[tr])
        R[:, k] = model.feature_importances_
        info[k] = np.mean(model.predict(codes[te]) == y[te])
        info_train[k] = np.mean(model.predict(codes[tr]) == y[tr])
    return R, info, info_train


def _entropy_base(p, base, axis):
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(p), 0.0)
    return -(p * logp).sum(axis=axis) / np.log(base)


def _dci_score(R, eps=0.0, weighted=True):
    """``sum_i w_i (1 - H_K(P_i.))``: ``P`` the rows of ``R`` normalised to sum 1, ``H_K`` the
    entropy in base ``K`` = the number of columns; ``w_i`` the rows' shares of the total
    importance (``weighted``) or ``1 / n_rows``. Disentanglement is this on ``R`` (codes x
    factors), completeness on ``R.T``."""
    n_rows, n_cols = R.shape
    total = R.sum()
    if total <= 0:
        return 0.0
    if n_cols == 1:
        return 1.0
    Rs = R + eps
    row = Rs.sum(axis=1, keepdims=True)
    P = np.divide(Rs, row, out=np.full_like(R, 1.0 / n_cols), where=row > 0)
    score = 1.0 - _entropy_base(P, n_cols, axis=1)
    w = R.sum(axis=1) / total if weighted else np.full(n_rows, 1.0 / n_rows)
    return float(np.clip(np.sum(w * score), 0.0, 1.0))


def _dci_disentanglement(R, eps=0.0):
    return _dci_score(R, eps, weighted=True)


def _dci_completeness(R, eps=0.0, weighted=False):
    return _dci_score(R.T, eps, weighted)


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
