"""Tests of HardSharingRegressor / HardSharingClassifier (skmtl.hard_sharing)."""

import numpy as np
import pytest
from sklearn.base import clone

from skmtl.datasets.factors import make_sprites
from skmtl.hard_sharing import HardSharingClassifier, HardSharingRegressor

SMALL = dict(hidden_layer_sizes=(32,), latent_dim=4, head_hidden_sizes=(16,))


@pytest.fixture(scope="module")
def shared_tasks():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    ys = [np.sin(X[:, 0]) + X[:, 1], np.sin(X[:, 0]) - X[:, 1], X[:, 0] * 0.5 + X[:, 2]]
    return X, ys


@pytest.mark.parametrize("heads", ["multi", "one"])
def test_regressor_fits_shared_tasks(shared_tasks, heads):
    X, ys = shared_tasks
    est = HardSharingRegressor(
        **SMALL, heads=heads, lr=1e-2, max_epochs=40, batch_size=64, random_state=0
    )
    est.fit([(X[:300], y[:300]) for y in ys])
    test = [(X[300:], y[300:]) for y in ys]
    assert est.score(test) > 0.8
    assert all(p.shape == (100,) for p in est.predict([X[300:]] * 3))
    n_heads = 3 if heads == "multi" else 1
    assert len(est.module_.heads) == n_heads
    assert est.latent_dim_ == 4


def test_transform_forms(shared_tasks):
    X, ys = shared_tasks
    est = HardSharingRegressor(**SMALL, max_epochs=2, random_state=0)
    est.fit([(X, y) for y in ys])
    Z = est.transform([X, X[:10], X[:3]])
    assert [z.shape for z in Z] == [(400, 4), (10, 4), (3, 4)]
    # tasks share the inputs, hence the scaling: the same rows give the same codes
    np.testing.assert_allclose(Z[1], Z[0][:10], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(est.transform(X[:10], task=2), Z[0][:10], rtol=1e-5, atol=1e-6)
    by_name = est.transform(X[:10], task=est.task_names_[1])
    np.testing.assert_allclose(by_name, Z[0][:10], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        est.transform(X, task=5)
    with pytest.raises(ValueError, match="unknown task"):
        est.transform(X, task="nope")
    with pytest.raises(ValueError):
        est.transform(X[:, :3], task=0)


def test_single_task_and_reproducible(shared_tasks):
    X, ys = shared_tasks
    params = dict(**SMALL, max_epochs=3, random_state=3)
    a = HardSharingRegressor(**params).fit(X, ys[0])
    b = clone(HardSharingRegressor(**params)).fit(X, ys[0])
    np.testing.assert_allclose(a.predict(X), b.predict(X))
    assert a.predict(X).shape == (400,) and a.transform(X).shape == (400, 4)
    assert a.n_tasks_ == 1 and len(a.module_.heads) == 1


def test_multi_output_targets_and_one_head_columns(shared_tasks):
    X, ys = shared_tasks
    Y = np.column_stack(ys)
    est = HardSharingRegressor(
        **SMALL, heads="one", lr=1e-2, max_epochs=30, batch_size=64, random_state=0
    )
    est.fit([(X, Y), (X, -Y)])
    assert est.module_.heads[0][-1].out_features == 6  # 2 tasks x 3 columns
    preds = est.predict([X, X])
    assert preds[0].shape == (400, 3)
    assert est.score([(X, Y), (X, -Y)]) > 0.8


def test_per_output_heads_one_task_many_columns(shared_tasks):
    X, ys = shared_tasks
    Y = np.column_stack(ys)
    est = HardSharingRegressor(
        **SMALL, heads="per_output", lr=1e-2, max_epochs=30, batch_size=64, random_state=0
    ).fit(X[:300], Y[:300])
    assert len(est.module_.heads) == 3
    assert est.predict(X[300:]).shape == (100, 3)
    assert est.score(X[300:], Y[300:]) > 0.8
    with pytest.raises(ValueError, match="per_output"):
        HardSharingClassifier(heads="per_output", max_epochs=1).fit(X, X[:, 0] > 0)


def test_conv_encoder_on_sprites():
    images, values, classes = make_sprites(300, image_size=16, random_state=0)
    X = images.reshape(len(images), -1)
    y_scale, y_x = values[:, 1], values[:, 3]
    est = HardSharingRegressor(
        image_shape=(16, 16),
        conv_channels=(8, 16),
        latent_dim=4,
        head_hidden_sizes=(32,),
        lr=3e-3,
        max_epochs=25,
        batch_size=64,
        random_state=0,
    )
    est.fit([(X[:250], y_x[:250]), (X[:250], y_scale[:250])])
    assert not hasattr(est, "input_mean_")  # pixels are not standardised
    assert est.transform(X[:5], task=0).shape == (5, 4)
    r2 = est.score_tasks([(X[250:], y_x[250:]), (X[250:], y_scale[250:])])
    assert r2[0] > 0.5  # the x position is easy for a convnet
    with pytest.raises(ValueError, match="task 0 .* 10 features but image_shape"):
        HardSharingRegressor(image_shape=(16, 16), max_epochs=1).fit(X[:20, :10], y_x[:20])


def test_classifier_twin(shared_tasks):
    X, _ = shared_tasks
    tasks = [
        (X, X[:, 0] > 0),
        (X, np.where(X[:, 1] > 0.5, "hi", np.where(X[:, 1] < -0.5, "lo", "mid"))),
    ]
    for heads in ("multi", "one"):
        clf = HardSharingClassifier(
            **SMALL, heads=heads, lr=1e-2, max_epochs=20, batch_size=64, random_state=0
        ).fit(tasks)
        assert clf.score(tasks) > 0.85
        proba = clf.predict_proba([X, X])
        assert proba[0].shape == (400, 2) and proba[1].shape == (400, 3)
        np.testing.assert_allclose(proba[1].sum(1), 1.0, rtol=1e-5)
        assert set(clf.predict([X, X])[1]) <= {"hi", "lo", "mid"}
        assert clf.transform([X, X])[0].shape == (400, 4)
    assert clf.module_.heads[0][-1].out_features == 5  # one head: 2 + 3 logits


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(heads="two"), "heads"),
        (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
        (dict(head_hidden_sizes=(4, -1)), "head_hidden_sizes"),
        (dict(latent_dim=0), "latent_dim"),
        (dict(image_shape=(16,)), "image_shape"),
        (dict(activation="swish"), "activation"),
        (dict(conv_channels=(8, 0), image_shape=(4, 4)), "conv_channels"),
    ],
)
def test_bad_params(shared_tasks, params, match):
    X, ys = shared_tasks
    with pytest.raises(ValueError, match=match):
        HardSharingRegressor(**params, max_epochs=1).fit(X, ys[0])
