"""Rank-correlation analysis of a representation against ground-truth factors.

:func:`retrieved_components` is the "number of retrieved components" of the study "On the
relationship between disentanglement and multi-task learning" (its Appendix I, Table 7): every
code component is matched with the factor it is most Spearman-correlated with, when that
correlation is statistically significant, and the number of distinct factors matched this way
is reported with the mean, std, min and max of the matched correlations.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import stats

from skmtl.metrics.disentanglement import _check_pair

__all__ = ["retrieved_components", "spearman_matrix"]


def spearman_matrix(codes, factors):
    """Spearman correlations and their two-sided p-values, codes x factors.

    ``rho[j, k]`` is the Pearson correlation of the ranks of code column ``j`` and factor
    ``k`` (ties get their average rank), as :func:`scipy.stats.spearmanr`; the p-value is that
    of the t statistic ``rho * sqrt((n - 2) / (1 - rho^2))`` with ``n - 2`` degrees of freedom
    (scipy's default). A constant code column has no defined correlation: it gets ``rho = 0``
    and ``p = 1`` (it carries no information about any factor).

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_codes)
    factors : array-like of shape (n_samples, n_factors)
        No factor column may be constant.

    Returns
    -------
    rho : ndarray of shape (n_codes, n_factors)
    p_value : ndarray of shape (n_codes, n_factors)

    Examples
    --------
    >>> import numpy as np
    >>> rho, p = spearman_matrix([[1], [2], [3], [4], [5]], [[2], [1], [4], [3], [5]])
    >>> round(float(rho[0, 0]), 3), round(float(p[0, 0]), 3)
    (0.8, 0.104)
    """
    factors, codes = _check_pair(factors, codes)
    n = codes.shape[0]
    if n < 3:
        raise ValueError(f"need at least 3 rows for a correlation test, got {n}")
    rc = stats.rankdata(codes, axis=0)
    rf = stats.rankdata(factors, axis=0)
    rc = rc - rc.mean(0)
    rf = rf - rf.mean(0)
    norm_c = np.sqrt((rc**2).sum(0))
    norm_f = np.sqrt((rf**2).sum(0))
    constant = norm_c == 0
    norm_c[constant] = 1.0
    rho = np.clip((rc.T @ rf) / np.outer(norm_c, norm_f), -1.0, 1.0)
    rho[constant] = 0.0
    df = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt(df / ((1.0 - rho) * (1.0 + rho)))
    p_value = 2.0 * stats.t.sf(np.abs(t), df)
    p_value[np.abs(rho) == 1.0] = 0.0
    p_value[constant] = 1.0
    return rho, p_value


def retrieved_components(factors, codes, *, alpha=0.05):
    """Number of factors retrieved by the code components, by Spearman correlation.

    The study's Appendix I (Table 7): for every code component ``j`` the absolute Spearman
    correlation ``|rho_jk|`` with every factor ``k`` is computed (:func:`spearman_matrix`);
    the component is matched with the factor of the largest ``|rho_jk|`` when that
    correlation is significant (two-sided p-value below ``alpha``; for a fixed number of rows
    the largest ``|rho|`` is also the most significant). The number of *distinct* factors
    matched is the number of retrieved factors: two components matched with the same factor
    count once. The correlation statistics are over the matched components.

    The sign of a correlation is ignored (a code component and its negation carry the same
    information). No correction for the ``n_codes * n_factors`` tests is applied, as the
    study states none; pass a smaller ``alpha`` (e.g. Bonferroni's
    ``0.05 / (n_codes * n_factors)``) for one.

    Parameters
    ----------
    factors : array-like of shape (n_samples, n_factors)
        Ground-truth factors (values or classes: only their ranks matter).
    codes : array-like of shape (n_samples, n_codes)
        The representation (e.g. test rows' latent codes).
    alpha : float in (0, 1), default=0.05
        Significance level of the correlation test.

    Returns
    -------
    result : dict
        ``n_retrieved`` (int, distinct factors matched, at most ``n_factors``);
        ``n_matched_components`` (int, components matched with some factor);
        ``matched_factor`` (int ndarray of shape (n_codes,), the factor of each component,
        -1 when none is significant); ``correlation`` (ndarray (n_codes,), the largest
        ``|rho|`` of each component, matched or not); ``mean_corr``, ``std_corr``,
        ``min_corr``, ``max_corr`` (floats over the matched components' ``|rho|``, NaN when
        none is matched; ``std_corr`` is the population std, ``ddof=0``);
        ``rho`` and ``p_value`` (the (n_codes, n_factors) matrices).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 5, size=(500, 3)).astype(float)
    >>> codes = np.column_stack([np.exp(z[:, 0]), -z[:, 1], z[:, 1], rng.normal(size=500)])
    >>> r = retrieved_components(z, codes)
    >>> r["n_retrieved"], r["matched_factor"][:3].tolist(), round(r["mean_corr"], 3)
    (2, [0, 1, 1], 1.0)
    """
    if not (isinstance(alpha, numbers.Real) and 0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    rho, p_value = spearman_matrix(codes, factors)
    abs_rho = np.abs(rho)
    best = abs_rho.argmax(axis=1)
    rows = np.arange(len(best))
    correlation = abs_rho[rows, best]
    significant = p_value[rows, best] < alpha
    matched = np.where(significant, best, -1)
    corr = correlation[significant]
    nan = float("nan")
    return {
        "n_retrieved": int(np.unique(matched[matched >= 0]).size),
        "n_matched_components": int(significant.sum()),
        "matched_factor": matched,
        "correlation": correlation,
        "mean_corr": float(corr.mean()) if corr.size else nan,
        "std_corr": float(corr.std()) if corr.size else nan,
        "min_corr": float(corr.min()) if corr.size else nan,
        "max_corr": float(corr.max()) if corr.size else nan,
        "rho": rho,
        "p_value": p_value,
    }
