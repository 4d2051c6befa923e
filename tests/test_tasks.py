import numpy as np
import pandas as pd
import pytest

from skmtl.tasks import Tasks, as_task_inputs, as_tasks


def _two_tasks(rng):
    X1, X2 = rng.normal(size=(8, 2)), rng.normal(size=(5, 3))
    return X1, np.array([0, 1] * 4), X2, np.array(["a", "b", "a", "b", "c"])


def test_input_forms_agree(rng):
    X1, y1, X2, y2 = _two_tasks(rng)
    forms = [
        as_tasks([(X1, y1), (X2, y2)]),
        as_tasks([X1, X2], [y1, y2]),
        as_tasks([(X1.tolist(), y1.tolist()), (X2.tolist(), list(y2))]),
        as_tasks([(pd.DataFrame(X1), pd.Series(y1)), (pd.DataFrame(X2), y2)]),
        as_tasks(Tasks([X1, X2], [y1, y2])),
    ]
    for tasks, single in forms:
        assert not single
        assert tasks.n_tasks == 2 and tasks.sizes.tolist() == [8, 5]
        np.testing.assert_allclose(tasks.Xs[1], X2)
        assert list(tasks.ys[1]) == list(y2)


def test_single_task_forms(rng):
    X1, y1, _, _ = _two_tasks(rng)
    for tasks, single in [as_tasks(X1, y1), as_tasks((X1, y1)), as_tasks((X1.tolist(), y1))]:
        assert single and tasks.n_tasks == 1 and len(tasks) == 8


def test_dataframe_column_names_become_variable_names(rng):
    X = pd.DataFrame(rng.normal(size=(4, 2)), columns=["age", "height"])
    tasks, _ = as_tasks([(X, [0, 1, 0, 1])])
    assert tasks.feature_names == [["age", "height"]]
    tasks, _ = as_tasks([(X.to_numpy(), [0, 1, 0, 1])])
    assert tasks.feature_names == [["x0", "x1"]]


def test_row_indexing_splits_within_tasks(rng):
    X1, y1, X2, y2 = _two_tasks(rng)
    T = Tasks([X1, X2], [y1, y2], names=["one", "two"], metadata=[[1.0], [2.0]])
    sub = T[np.array([0, 7, 8, 12])]
    assert sub.sizes.tolist() == [2, 2]
    np.testing.assert_allclose(sub.Xs[0], X1[[0, 7]])
    assert list(sub.ys[1]) == ["a", "c"]
    assert sub.names == ["one", "two"] and sub.metadata.shape == (2, 1)
    assert T[np.arange(13) < 8].sizes.tolist() == [8, 0]
    assert T[(np.array([1, 2]), Ellipsis)].sizes.tolist() == [2, 0]  # sklearn's array[key, ...]
    assert T.shape == (13,) and len(T.y) == 13 and T.y.dtype == object
    assert T.task_index.tolist() == [0] * 8 + [1] * 5


def test_strata_codes_task_and_label(rng):
    X1, y1, X2, y2 = _two_tasks(rng)
    T = Tasks([X1, X2], [y1, y2])
    codes = T.strata
    assert len(np.unique(codes[:8])) == 2 and len(np.unique(codes[8:])) == 3
    assert not set(codes[:8]) & set(codes[8:])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, y: [(X, y), (np.where(X > 1, np.inf, X), y)], r"task 1: .*infinity"),
        (lambda X, y: [(X, y[:-1])], r"task 0: X has 8 rows but y has 7"),
        (lambda X, y: [(X[:, 0], y)], r"task 0: .*Expected 2D array"),
        (lambda X, y: [(X.reshape(8, 2, 1), y)], r"task 0: .*dim 3"),
        (
            lambda X, y: [(np.array([["a", "b"]] * 8, dtype=object), y)],
            r"task 0: X contains non-numeric",
        ),
        (lambda X, y: [], r"no tasks were given"),
        (
            lambda X, y: [(pd.DataFrame({"d": pd.date_range("2020", periods=8)}), y)],
            r"task 0: column 'd' \(datetime64.*\) is neither numeric",
        ),
        (lambda X, y: [(pd.DataFrame(X, columns=["a", "a"]), y)], r"task 0: duplicated column"),
    ],
)
def test_clear_errors(rng, make, match):
    X1, y1, _, _ = _two_tasks(rng)
    with pytest.raises(ValueError, match=match):
        as_tasks(make(X1, y1))


def test_metadata_validation(rng):
    X1, y1, X2, y2 = _two_tasks(rng)
    tasks, _ = as_tasks([(X1, y1), (X2, y2)], metadata=pd.DataFrame({"m": [1.0, 2.0]}))
    assert tasks.metadata_names == ["m"]
    with pytest.raises(ValueError, match="metadata has 3 rows but there are 2 tasks"):
        as_tasks([(X1, y1), (X2, y2)], metadata=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"metadata contains NaN .*tasks \[1\]"):
        as_tasks([(X1, y1), (X2, y2)], metadata=[[1.0], [np.nan]])


def test_duplicated_names_rejected(rng):
    X1, y1, X2, y2 = _two_tasks(rng)
    with pytest.raises(ValueError, match="unique; duplicated: \\['a'\\]"):
        Tasks([X1, X2], [y1, y2], names=["a", "a"])


def test_predict_inputs_checked(rng):
    X1, _, X2, _ = _two_tasks(rng)
    Xs, single = as_task_inputs([X1, X2], 2, [2, 3])
    assert not single and len(Xs) == 2
    with pytest.raises(ValueError, match="1 tasks were given but the model was fitted on 2"):
        as_task_inputs([X1], 2, [2, 3])
    with pytest.raises(ValueError, match="task 1: X has 2 features, but Est is expecting 3"):
        as_task_inputs([X1, X1], 2, [2, 3], owner="Est")
    with pytest.raises(
        ValueError, match="single feature matrix was given but the model was fitted on 2"
    ):
        as_task_inputs(X1, 2, [2, 3])


def test_items_iterates_tasks_and_iter_is_refused(rng):
    X1, y1, X2, y2 = _two_tasks(rng)
    T = Tasks([X1, X2], [y1, y2])
    pairs = list(T.items())
    assert len(pairs) == 2 and pairs[1][0] is T.Xs[1] and list(pairs[1][1]) == list(y2)
    with pytest.raises(TypeError, match=r"T\.items\(\)"):
        for _X, _y in T:
            pass
    with pytest.raises(TypeError, match=r"PerTaskTransformer\(StandardScaler\(\)\)"):
        np.asarray(T)


def test_missing_and_categorical_columns_are_kept(rng):
    frame = pd.DataFrame(
        {
            "color": pd.Categorical(["red", "green", None, "red"]),
            "shape": ["a", "b", "a", None],
            "flag": [True, False, True, False],
            "size": [1.0, np.nan, 3.0, 4.0],
        }
    )
    T = Tasks([frame, rng.normal(size=(3, 2))], [[0, 1, 0, 1], [1, 0, 1]])
    assert T.Xs[0].dtype == object and T.Xs[1].dtype == np.float64
    assert T.frames[1] is None and list(T.frames[0].columns) == ["color", "shape", "flag", "size"]
    assert T.frames[0]["flag"].tolist() == [1.0, 0.0, 1.0, 0.0]  # bool -> 0/1
    assert T.input_columns == [["color", "shape", "flag", "size"], None]
    sub = T[[3, 1]]  # rows 3 and 1 of task 0: the frame is sliced with the array
    assert sub.sizes.tolist() == [2, 0] and sub.frames[0]["size"].tolist()[0] == 4.0
    assert pd.isna(sub.frames[0]["shape"][0]) and np.isnan(sub.frames[0]["size"][1])
    assert sub.Xs[0].shape == (2, 4) and sub.Xs[0][0, 0] == "red"
    X, _ = sub.task(0)
    assert isinstance(X, pd.DataFrame) and X["color"].cat.categories.tolist() == ["green", "red"]


def test_check_feature_names_messages():
    from skmtl.tasks import check_feature_names

    frame = pd.DataFrame({"a": [1.0], "b": [2.0]})
    T = Tasks([frame, frame[["b", "a"]], frame.rename(columns={"a": "z"})], names=["p", "q", "r"])
    fitted = [["a", "b"]] * 3
    with pytest.raises(ValueError, match=r"task 1 \('q'\): .*another order: got \['b', 'a'\]"):
        check_feature_names(T, fitted, T.names)
    with pytest.raises(ValueError, match=r"task 2.*unseen at fit time: \['z'\].*missing: \['a'\]"):
        check_feature_names(T, [["a", "b"], ["b", "a"], ["a", "b"]], T.names)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        check_feature_names(Tasks([np.ones((1, 2))]), [["a", "b"]])
    with pytest.warns(UserWarning, match="fitted without feature names"):
        check_feature_names(Tasks([frame]), [None])
