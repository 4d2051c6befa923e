"""Known-case tests of the disentanglement metrics (skmtl.metrics)."""

import numpy as np
import pytest

from skmtl.metrics import (
    dataset_sampler,
    dci,
    discretize,
    factor_vae_score,
    mutual_info_gap,
    sap_score,
)


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 8, size=(2000, 4)).astype(float)
    perfect = z[:, [2, 0, 3, 1]] * np.array([2.0, -1.0, 0.5, 3.0]) + 1.0
    random = rng.normal(size=(2000, 4))
    mixed = np.column_stack([z[:, 0] + z[:, 1], z[:, 0] - z[:, 1], z[:, 2], z[:, 3]])
    return z, {"perfect": perfect, "random": random, "mixed": mixed}


def _ordered(scores, top=0.9, bottom=0.1):
    assert scores["perfect"] > top
    assert scores["random"] < bottom
    assert scores["random"] + 0.1 < scores["mixed"] < scores["perfect"] - 0.1


def test_mig_known_cases(cases):
    z, codes = cases
    scores = {k: mutual_info_gap(z, c) for k, c in codes.items()}
    _ordered(scores, bottom=0.05)
    # two of four factors are perfectly captured, the other two are split evenly
    assert scores["mixed"] == pytest.approx(0.5, abs=0.05)


def test_mig_per_factor_and_single_code(cases):
    z, codes = cases
    score, per = mutual_info_gap(z, codes["mixed"], return_per_factor=True)
    assert per.shape == (4,)
    assert per[2] > 0.95 and per[3] > 0.95 and per[0] < 0.1
    # a single code dimension equal to factor 0: gap = full MI for that factor, 0 for others
    assert mutual_info_gap(z, z[:, :1]) == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("discrete", [False, True])
def test_sap_known_cases(cases, discrete):
    z, codes = cases
    scores = {k: sap_score(z, c, discrete_factors=discrete) for k, c in codes.items()}
    _ordered(scores, bottom=0.05)
    assert scores["mixed"] == pytest.approx(0.5, abs=0.06)


@pytest.mark.parametrize("estimator", ["gbt", "lasso"])
def test_dci_known_cases(cases, estimator):
    z, codes = cases
    res = {k: dci(z, c, estimator=estimator, n_estimators=30) for k, c in codes.items()}
    for key in ("disentanglement", "completeness"):
        scores = {k: r[key] for k, r in res.items()}
        _ordered(scores, bottom=0.35 if estimator == "lasso" else 0.1)
    assert res["perfect"]["informativeness"] > 0.95
    assert res["mixed"]["informativeness"] > 0.95  # mixing loses no information
    assert res["random"]["informativeness"] < 0.05


def test_dci_importance_matrix(cases):
    z, codes = cases
    r = dci(z, codes["perfect"], n_estimators=20, return_importance=True)
    R = r["importance"]
    assert R.shape == (4, 4)
    # code j was built from factor [2, 0, 3, 1][j]
    np.testing.assert_array_equal(R.argmax(axis=1), [2, 0, 3, 1])


def test_factor_vae_known_cases(cases):
    z, codes = cases
    scores = {}
    for k, c in codes.items():
        sample = dataset_sampler(z, c)
        scores[k] = factor_vae_score(
            sample, lambda x: x, 4, n_train_votes=300, n_eval_votes=200, random_state=0
        )
    assert scores["perfect"] == 1.0
    assert scores["random"] < 0.45  # chance is 1/4
    assert scores["random"] + 0.1 < scores["mixed"] < 0.95


def test_factor_vae_details_and_collapsed_codes(cases):
    z, codes = cases
    sample = dataset_sampler(z, codes["perfect"])
    score, details = factor_vae_score(
        sample, lambda x: x, 4, n_train_votes=50, n_eval_votes=20, return_details=True
    )
    assert details["votes"].shape == (4, 4) and details["votes"].sum() == 50
    assert details["train_accuracy"] == 1.0
    # all-constant codes: every dimension pruned -> 0
    assert factor_vae_score(sample, lambda x: np.zeros((len(x), 3)), 4, n_train_votes=5) == 0.0


def test_dataset_sampler_fixes_factor():
    rng = np.random.default_rng(1)
    z = rng.integers(0, 3, size=(300, 2)).astype(float)
    sample = dataset_sampler(z, z)
    for k in range(2):
        batch = sample(50, k, rng)
        assert np.all(batch[:, k] == batch[0, k])
        assert len(np.unique(batch[:, 1 - k])) > 1
    assert sample(10, None, rng).shape == (10, 2)


def test_discretize():
    a = np.column_stack([np.repeat([3.0, 7.0], 5), np.linspace(0, 1, 10)])
    d = discretize(a, n_bins=4)
    assert d[:, 0].tolist() == [0] * 5 + [1] * 5
    assert d[:, 1].min() == 0 and d[:, 1].max() == 3
    with pytest.raises(ValueError, match="n_bins"):
        discretize(a, n_bins=1)


@pytest.mark.parametrize("metric", [mutual_info_gap, sap_score, dci])
def test_input_errors(metric):
    z = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="same number of rows"):
        metric(z, z[:40])
    const = z.copy()
    const[:, 1] = 1.0
    with pytest.raises(ValueError, match=r"factor column\(s\) \[1\] are constant"):
        metric(const, z)
    bad = z.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metric(z, bad)
    with pytest.raises(TypeError):
        metric(z, [["a", "b"]] * 50)


def test_factor_vae_bad_encoder():
    z = np.random.default_rng(0).integers(0, 3, size=(100, 2)).astype(float)
    sample = dataset_sampler(z, z)
    with pytest.raises(ValueError, match="encode_fn must return"):
        factor_vae_score(sample, lambda x: x[:5], 2, n_train_votes=2)
    with pytest.raises(ValueError, match="n_factors"):
        factor_vae_score(sample, lambda x: x, 0)
    with pytest.raises(ValueError, match="same number of rows"):
        dataset_sampler(z, z[:10])


def test_factor_vae_divides_by_the_global_std():
    """Codes on very different scales: only the per-dimension rescaling finds each factor."""
    rng = np.random.default_rng(0)
    z = rng.integers(0, 8, size=(4000, 4)).astype(float)
    codes = (z + 0.3 * rng.normal(size=z.shape)) * np.array([6.0, 1.0, 0.35, 3.0])
    score = factor_vae_score(
        dataset_sampler(z, codes), lambda x: x, 4, n_train_votes=200, n_eval_votes=100
    )
    # without the rescaling the 0.35-scale code has the least variance when factor 0, 2 or 3
    # is fixed (score about 1/2)
    assert score > 0.95


def test_reference_argument_errors():
    z = np.random.default_rng(0).integers(0, 3, size=(60, 2)).astype(float)
    with pytest.raises(ValueError, match="reference must be one of"):
        sap_score(z, z, reference="dlib")
    with pytest.raises(ValueError, match="reference must be one of"):
        dci(z, z, reference="Disentanglement_lib")
    with pytest.raises(ValueError, match="estimator='gbt' only"):
        dci(z, z, estimator="lasso", reference="disentanglement_lib")
