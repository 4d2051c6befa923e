"""retrieved_components / spearman_matrix against hand-computed cases (the study's Table 7)."""

import numpy as np
import pytest
from scipy import stats

from skmtl.metrics import retrieved_components, spearman_matrix


def test_spearman_by_hand_ranks_and_t_test_p_value():
    # ranks (1..5) against (2, 1, 4, 3, 5): d = (-1, 1, -1, 1, 0), sum d^2 = 4,
    # rho = 1 - 6 * 4 / (5 * 24) = 0.8; t = 0.8 * sqrt(3 / 0.36) = 2.3094 on 3 df,
    # two-sided p = 0.10408 (t table)
    rho, p = spearman_matrix([[1.0], [2.0], [3.0], [4.0], [5.0]], [[2], [1], [4], [3], [5]])
    assert rho[0, 0] == pytest.approx(0.8)
    assert p[0, 0] == pytest.approx(0.10408, abs=1e-4)
    # a monotone but non-linear map has rank correlation exactly 1 (Pearson's would be < 1)
    x = np.arange(1.0, 9.0)
    rho, p = spearman_matrix(np.exp(x)[:, None], x[:, None])
    assert rho[0, 0] == pytest.approx(1.0) and p[0, 0] == 0.0


def test_spearman_matches_scipy_with_ties_and_marks_constant_codes():
    rng = np.random.default_rng(0)
    codes = np.column_stack([rng.normal(size=40), np.round(rng.normal(size=40)), np.ones(40)])
    factors = rng.integers(0, 4, size=(40, 2)).astype(float)  # many ties
    rho, p = spearman_matrix(codes, factors)
    for j in range(2):
        for k in range(2):
            ref = stats.spearmanr(codes[:, j], factors[:, k])
            assert rho[j, k] == pytest.approx(ref.statistic, abs=1e-12)
            assert p[j, k] == pytest.approx(ref.pvalue, abs=1e-12)
    assert np.all(rho[2] == 0.0) and np.all(p[2] == 1.0)


def test_retrieved_components_counts_distinct_factors_by_hand():
    # factors: f0 = 1..8, f1 = a permutation; the codes:
    #   c0 = exp(f0)          -> f0, |rho| 1
    #   c1 = -f1              -> f1, |rho| 1 (the sign is ignored)
    #   c2 = 2 * f1           -> f1 again: a second component, not a second factor
    #   c3 = constant         -> unmatched (rho 0, p 1)
    #   c4 = (2, 1, 4, 3, ..) -> f0 with rho 0.905 (sum d^2 = 8 over n = 8), p < 0.05
    f0 = np.arange(1.0, 9.0)
    f1 = np.array([3.0, 7.0, 1.0, 8.0, 2.0, 6.0, 4.0, 5.0])
    c4 = np.array([2.0, 1.0, 4.0, 3.0, 6.0, 5.0, 8.0, 7.0])
    codes = np.column_stack([np.exp(f0), -f1, 2 * f1, np.zeros(8), c4])
    r = retrieved_components(np.column_stack([f0, f1]), codes)
    assert r["matched_factor"].tolist() == [0, 1, 1, -1, 0]
    assert r["n_retrieved"] == 2 and r["n_matched_components"] == 4
    rho4 = 1 - 6 * 8 / (8 * 63)
    assert r["correlation"][4] == pytest.approx(rho4)
    matched = np.array([1.0, 1.0, 1.0, rho4])
    assert r["mean_corr"] == pytest.approx(matched.mean())
    assert r["std_corr"] == pytest.approx(matched.std())
    assert r["min_corr"] == pytest.approx(rho4) and r["max_corr"] == pytest.approx(1.0)


def test_retrieved_components_needs_significance():
    # rho 0.8 on 5 rows has p = 0.104: not retrieved at alpha 0.05, retrieved at 0.2
    factors = np.array([[2.0], [1.0], [4.0], [3.0], [5.0]])
    codes = np.arange(1.0, 6.0)[:, None]
    r = retrieved_components(factors, codes)
    assert r["n_retrieved"] == 0 and r["matched_factor"].tolist() == [-1]
    assert np.isnan(r["mean_corr"]) and r["correlation"][0] == pytest.approx(0.8)
    assert retrieved_components(factors, codes, alpha=0.2)["n_retrieved"] == 1


def test_retrieved_components_on_noise_and_bad_input():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 10, size=(2000, 4)).astype(float)
    r = retrieved_components(z, rng.normal(size=(2000, 6)), alpha=0.001)
    assert r["n_retrieved"] <= 1  # 24 tests at 0.001: P(any false match) about 2%
    with pytest.raises(ValueError, match="alpha"):
        retrieved_components(z, z, alpha=1.5)
    with pytest.raises(ValueError, match="at least 3 rows"):
        retrieved_components(z[:2], z[:2])
    with pytest.raises(ValueError, match="constant"):
        retrieved_components(np.ones((5, 1)), z[:5])
