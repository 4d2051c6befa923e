import pickle

import numpy as np
import pytest

from skmtl.nn.regularizers import (
    orthogonality_penalty,
    stable_rank,
    von_neumann_entropy,
)
from skmtl.sve import PRESETS, SharedVariableEmbeddingClassifier, training_budget

TINY = dict(
    embedding_dim=8,
    n_shared=8,
    hidden_dim=16,
    n_encoder_layers=2,
    n_core_layers=1,
    n_decoder_layers=1,
    lr=1e-2,
    batch_size=64,
    max_epochs=15,
    validation_fraction=0.0,
    random_state=0,
)


@pytest.fixture(scope="module")
def tasks():
    rng = np.random.default_rng(0)
    X1 = rng.normal(size=(160, 3))
    X2 = rng.normal(size=(140, 6))
    y1 = np.where(X1[:, 0] + X1[:, 1] > 0, "yes", "no")
    y2 = np.digitize(X2[:, 2] - X2[:, 4], [-0.7, 0.7])
    return [(X1, y1), (X2, y2)]


def _fit(tasks, **params):
    return SharedVariableEmbeddingClassifier(**{**TINY, **params}).fit(tasks)


@pytest.fixture(scope="module")
def fitted(tasks):
    return _fit(tasks, attention="entmax", alpha=1.5, learn_alpha=False)


def test_shapes_for_tasks_of_different_widths_and_classes(fitted, tasks):
    proba = fitted.predict_proba([X for X, _ in tasks])
    assert [p.shape for p in proba] == [(160, 2), (140, 3)]
    for p in proba:
        assert np.allclose(p.sum(1), 1.0) and (p > 0).all()
    preds = fitted.predict([X for X, _ in tasks])
    assert set(preds[0]) <= {"yes", "no"} and set(preds[1]) <= {0, 1, 2}
    # predict is the argmax of predict_proba and of the raw scores
    for t, p in enumerate(proba):
        assert np.array_equal(fitted.task_classes_[t][p.argmax(1)], preds[t])
    assert fitted.score(tasks) > 0.75
    assert fitted.shared_embeddings_.shape == (8, 8)
    assert [v.shape for v in fitted.variable_embeddings_] == [(3, 8), (6, 8)]
    assert [v.shape for v in fitted.processed_embeddings_] == [(3, 8), (6, 8)]
    assert [v.shape for v in fitted.output_embeddings_] == [(2, 8), (3, 8)]
    assert [a.shape for a in fitted.attention_] == [(3, 8), (6, 8)]
    # processed embeddings are the attention-weighted shared base (eq. 5)
    F = fitted.attention_[1] @ fitted.shared_embeddings_
    assert np.allclose(F, fitted.processed_embeddings_[1], atol=1e-5)


def test_entmax_gives_exact_zeros_softmax_none(fitted, tasks):
    w = np.concatenate(fitted.attention_)
    assert (w == 0).any()
    assert np.allclose(w.sum(1), 1.0, atol=1e-5)
    soft = _fit(tasks, attention="softmax", max_epochs=3)
    assert (np.concatenate(soft.attention_) > 0).all()
    assert soft.alpha_ is None


def test_learn_alpha_changes_alpha_fixed_does_not(fitted, tasks):
    assert fitted.alpha_ == pytest.approx(1.5, abs=1e-7)
    learned = _fit(tasks, attention="entmax", alpha=1.5, learn_alpha=True)
    assert abs(learned.alpha_ - 1.5) > 1e-3


@pytest.mark.parametrize(
    "param, quantity, lower_is_better",
    [
        ("orthogonal_weight", orthogonality_penalty, True),
        ("stable_rank_weight", stable_rank, False),
        ("von_neumann_weight", von_neumann_entropy, False),
    ],
)
def test_each_regulariser_improves_its_own_quantity(tasks, param, quantity, lower_is_better):
    import torch

    plain = _fit(tasks, attention="softmax", max_epochs=8)
    reg = _fit(tasks, attention="softmax", max_epochs=8, **{param: 1.0})
    q_plain = float(quantity(torch.as_tensor(plain.shared_embeddings_)))
    q_reg = float(quantity(torch.as_tensor(reg.shared_embeddings_)))
    if lower_is_better:
        assert q_reg < 0.9 * q_plain
    else:
        assert q_reg > q_plain * 1.02
    # stable_rank_ attribute reports eq. 9 of S
    assert plain.stable_rank_ == pytest.approx(
        float(stable_rank(torch.as_tensor(plain.shared_embeddings_))), rel=1e-4
    )


def test_regularisers_can_be_combined_and_need_shared(tasks):
    clf = _fit(tasks, max_epochs=2, orthogonal_weight=0.1, stable_rank_weight=0.05)
    assert clf.module_.regularizers == {"orthogonal": 0.1, "stable_rank": 0.05}
    with pytest.raises(ValueError, match="n_shared"):
        _fit(tasks, n_shared=None, stable_rank_weight=0.1)


def test_concepts_rows_name_real_tasks_and_variables(fitted, tasks):
    c = fitted.concepts_
    assert len(c) == 8 * 5
    assert list(c.columns) == [
        "shared_embedding",
        "rank",
        "task",
        "variable",
        "similarity",
        "attention",
    ]
    names = dict(zip(fitted.task_names_, fitted.feature_names_per_task_))
    for task, var in zip(c.task, c.variable):
        assert var in names[task]
    # ranks are sorted by decreasing cosine similarity within every shared embedding
    for _, g in c.groupby("shared_embedding"):
        assert g.sort_values("rank").similarity.is_monotonic_decreasing
        assert (g.similarity.abs() <= 1 + 1e-9).all()
    assert fitted.concepts(k=2).shape == (16, 6)
    shared = fitted.commonly_shared(threshold=0.1, n_embeddings=3, n_tasks=2)
    assert len(shared) == 6 and set(shared.task) <= set(fitted.task_names_)
    assert (shared.n_sharing_tasks <= 2).all()


def test_concepts_use_dataframe_column_names(tasks):
    pd = pytest.importorskip("pandas")
    X1, y1 = tasks[0]
    frame = pd.DataFrame(X1, columns=["age", "height", "weight"])
    clf = _fit([(frame, y1)], max_epochs=2)
    assert set(clf.concepts_.variable) <= {"age", "height", "weight"}


def test_vanilla_mode_fits_without_shared_attributes(tasks):
    clf = _fit(tasks, n_shared=None)
    assert clf.module_.attention is None
    assert clf.shared_embeddings_ is None and clf.attention_ is None and clf.concepts_ is None
    assert clf.alpha_ is None and clf.stable_rank_ is None
    assert clf._embedding_std() == 1e-3
    assert clf.score(tasks) > 0.6
    with pytest.raises(ValueError, match="n_shared=None"):
        clf.concepts()


@pytest.mark.parametrize("batching", ["task", "mixed"])
@pytest.mark.parametrize("task_sampling", ["uniform", "proportional"])
def test_batched_and_per_task_modes_both_fit(tasks, batching, task_sampling):
    clf = _fit(tasks, batching=batching, task_sampling=task_sampling, attention="softmax")
    assert clf.score(tasks) > 0.7
    assert clf.n_steps_ > 0


def test_mixed_steps_of_one_task_each_fit(tasks):
    # tasks_per_step=1: each mixed step holds one task's rows (the paper's sampling in
    # the batched code path)
    clf = _fit(tasks, batching="mixed", tasks_per_step=1, attention="softmax")
    assert clf.score(tasks) > 0.7


def test_early_stopping_records_best_epoch(tasks):
    clf = _fit(tasks, validation_fraction=0.2, max_epochs=6, attention="softmax")
    assert 1 <= clf.best_epoch_ <= clf.n_iter_
    assert 0 < clf.n_steps_to_best_ <= clf.n_steps_


def test_pickle_keeps_predictions(fitted, tasks):
    Xs = [X for X, _ in tasks]
    clone = pickle.loads(pickle.dumps(fitted))
    for a, b in zip(fitted.predict_proba(Xs), clone.predict_proba(Xs)):
        assert np.allclose(a, b)
    assert clone.concepts_.equals(fitted.concepts_)


def test_random_state_reproducible(tasks):
    a = _fit(tasks, max_epochs=3)
    b = _fit(tasks, max_epochs=3)
    assert np.allclose(a.shared_embeddings_, b.shared_embeddings_)


def test_presets_and_bad_parameters(tasks):
    clf = SharedVariableEmbeddingClassifier.from_preset("paper")
    assert (clf.embedding_dim, clf.n_shared, clf.hidden_dim, clf.n_encoder_layers) == (
        128,
        128,
        128,
        10,
    )
    assert clf.lr == 1e-3 and clf.weight_decay == 1e-5 and clf.dropout == 0.0
    assert SharedVariableEmbeddingClassifier().get_params()["attention"] == "entmax"
    assert set(PRESETS) == {"paper", "small"}
    # the paper's training: one sampled task of 128 rows per step, the sum of eq. 2
    assert (clf.batching, clf.batch_size, clf.aggregation) == ("task", 128, "sum")
    assert clf.early_stopping is True and clf.steps_per_epoch is None
    with pytest.raises(ValueError, match="preset"):
        SharedVariableEmbeddingClassifier.from_preset("huge")
    with pytest.raises(ValueError, match="attention"):
        _fit(tasks, attention="sparsemax")
    with pytest.raises(ValueError, match="alpha"):
        _fit(tasks, alpha=1.0)


def test_plot_attention(fitted):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = fitted.plot_attention()
    image = ax.images[0].get_array()
    assert image.shape == (2, 8)
    assert np.allclose(image, np.stack([a.max(0) for a in fitted.attention_]))


@pytest.mark.slow  # real data: run in CI's slow step
def test_accuracy_above_chance_on_real_pmlb_tasks(data_home):
    from sklearn.model_selection import train_test_split

    from skmtl.datasets import load_pmlb_tasks

    tasks, _ = load_pmlb_tasks(["iris", "prnn_synth", "monk1"], data_home=data_home)
    train, test, chance = [], [], []
    for X, y in zip(tasks.Xs, tasks.ys):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        train.append((Xtr, ytr))
        test.append((Xte, yte))
        chance.append(np.max(np.unique(yte, return_counts=True)[1]) / len(yte))
    clf = SharedVariableEmbeddingClassifier.from_preset(
        "small", max_epochs=60, validation_fraction=0.0, lr=3e-3, random_state=0
    ).fit(train)
    acc = clf.score_tasks(test)
    assert (acc > np.array(chance) + 0.15).all(), (acc, chance)


def test_training_budget_is_derived_from_the_task_sizes():
    # 40 tasks: 32 per step, 32 rows each; the median task (300 rows) takes 10 draws,
    # and a task is drawn in 32 of 40 steps: ceil(40 / 32 * 300 / 32) = 12 steps an epoch
    sizes = [300] * 20 + [100] * 10 + [5000] * 10
    assert training_budget(sizes) == {
        "batch_size": 1024,
        "tasks_per_step": 32,
        "steps_per_epoch": 12,
    }
    # more rows per task -> longer epochs; fewer tasks -> smaller steps
    assert training_budget([3000] * 4)["steps_per_epoch"] == 94
    assert training_budget([3000] * 4)["batch_size"] == 128
    # explicit values are kept, "auto" only fills the rest
    assert training_budget(sizes, batch_size=256, tasks_per_step=8, steps_per_epoch=None) == {
        "batch_size": 256,
        "tasks_per_step": 8,
        "steps_per_epoch": None,
    }
    assert training_budget(sizes, batch_size=64, tasks_per_step=None)["steps_per_epoch"] == 150
    assert training_budget([10, 20], batching="task")["tasks_per_step"] is None


def test_fitted_budget_attributes_report_what_the_fit_used(tasks):
    clf = _fit(tasks, batch_size="auto", max_epochs=3)
    # 2 tasks of 160 and 140 rows, no validation rows: 64-row steps, ceil(150 / 32) = 5
    assert (clf.batch_size_, clf.tasks_per_step_, clf.steps_per_epoch_) == (64, 2, 5)
    assert clf.n_steps_ == 3 * 5 and clf.n_iter_ == 3
    assert clf.get_params()["batch_size"] == "auto"  # the parameter itself is untouched


def test_verbose_prints_one_line_per_epoch(tasks, capsys):
    _fit(tasks, max_epochs=3, validation_fraction=0.2, verbose=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    epochs = [line for line in lines if line.split()[0] in {"1", "2", "3"}]
    assert len(epochs) == 3


def test_defaults_learn_small_real_tasks(data_home):
    # SharedVariableEmbeddingClassifier() as a new user calls it, on two small PMLB tables
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmtl import PerTaskClassifier, task_train_test_split
    from skmtl.datasets import load_pmlb_tasks

    tasks, _ = load_pmlb_tasks(["iris", "wine_recognition"], data_home=data_home)
    train, test = task_train_test_split(tasks, test_size=0.3, random_state=0)
    clf = SharedVariableEmbeddingClassifier(random_state=0).fit(train)
    lr = PerTaskClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)))
    acc, base = clf.score_tasks(test), lr.fit(train).score_tasks(test)
    # well above chance (iris 1/3, wine 0.4) on every task; measured: 0.956 and 0.849,
    # per-task logistic regression 0.957 on both (docs/benchmarks/sve.md)
    assert (acc > 0.8).all() and acc.mean() > 0.88, (acc, base)
    # the budget came from the data: 2 tasks of 32 rows each per step
    assert (clf.batch_size_, clf.tasks_per_step_) == (64, 2)
    assert clf.n_steps_ == clf.n_iter_ * clf.steps_per_epoch_
    assert clf.task_best_epoch_ is not None


def test_ensemble_estimator_predicts_with_the_members_mean(tasks):
    import torch

    clf = _fit(tasks, n_estimators=2, max_epochs=3)
    members = clf.module_.members
    assert len(members) == 2
    # the fitted attributes describe the first member
    S0 = members[0].shared_embeddings.detach().numpy()
    assert np.allclose(clf.shared_embeddings_, S0, atol=1e-6)
    assert not np.allclose(clf.shared_embeddings_, members[1].shared_embeddings.detach().numpy())
    outs, _ = clf._forward_outputs([X for X, _ in tasks])
    Xs = clf._scale([X for X, _ in tasks])
    X1 = torch.as_tensor(Xs[1])
    task = torch.ones(len(X1), dtype=torch.long)
    mask = torch.ones_like(X1, dtype=torch.bool)
    with torch.no_grad():
        mean = sum(m.eval()(X1, task, mask)[0] for m in members) / 2
    assert torch.allclose(outs[1][:, :3], mean[:, :3], atol=1e-5)


SIX_TASKS = ["iris", "wine_recognition", "breast_cancer_wisconsin", "glass", "ionosphere", "pima"]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="open (issue 18): on CPU the paper preset reaches 0.864 mean test accuracy "
    "here against 0.868 for per-task logistic regression; strict, so it fails once it passes",
)
def test_paper_preset_learns_the_six_pmlb_tasks_of_issue_18(data_home):
    # the paper's model (10 layers per network, widths 128, sum pooling, one task of 128 rows
    # per step) in a short fit, against per-task logistic regression (0.858 on this split)
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmtl import PerTaskClassifier, task_train_test_split
    from skmtl.datasets import load_pmlb_tasks

    tasks, _ = load_pmlb_tasks(SIX_TASKS, min_class_count=2, data_home=data_home)
    train, test = task_train_test_split(tasks, test_size=0.3, random_state=0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    clf = SharedVariableEmbeddingClassifier.from_preset(
        "paper", early_stopping="per_task", max_epochs=150, device=device, random_state=0
    ).fit(train)
    lr = PerTaskClassifier(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)))
    assert clf.score(test) > lr.fit(train).score(test)


def test_refinement_changes_only_the_tasks_it_improves_on_validation(tasks):
    params = dict(validation_fraction=0.25, early_stopping="per_task", max_epochs=6)
    joint = _fit(tasks, **params)
    refined = _fit(tasks, refine_epochs=6, n_iter_no_change=6, **params)
    assert joint.n_refine_epochs_ == 0 and not joint.refined_tasks_.any()
    assert refined.n_refine_epochs_ == 6
    assert refined.n_iter_ == joint.n_iter_ + 6
    # the joint stage is the same fit: same losses epoch by epoch
    assert refined.history_[: joint.n_iter_, "train_loss"] == joint.history_[:, "train_loss"]
    first = dict(joint.net_.callbacks_)["per_task_checkpoint"].best_loss_
    second = dict(refined.net_.callbacks_)["per_task_checkpoint"].best_loss_
    moved = refined.refined_tasks_
    assert moved.any()
    assert moved.tolist() == (refined.task_best_epoch_ > joint.n_iter_).tolist()
    # a task moves to refinement weights only when its validation loss fell below its best
    assert np.all(second[moved] < first[moved]) and np.all(second[~moved] == first[~moved])
    Xs = [X for X, _ in tasks]
    for t, (a, b) in enumerate(zip(joint.predict_proba(Xs), refined.predict_proba(Xs))):
        assert np.array_equal(a, b) == (not moved[t])


def test_refinement_needs_per_task_selection_and_validation_rows(tasks):
    clf = _fit(tasks, refine_epochs=5, early_stopping=True, validation_fraction=0.25)
    assert clf.n_refine_epochs_ == 0 and clf.refined_tasks_ is None
    clf = _fit(tasks, refine_epochs=5, early_stopping="per_task", validation_fraction=0.0)
    assert clf.n_refine_epochs_ == 0
    with pytest.raises(ValueError, match="refine_epochs"):
        _fit(tasks, refine_epochs=-1)
