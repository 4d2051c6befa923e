"""Cross-validation and grid search on a multi-task estimator.

A :class:`skmtl.Tasks` is indexable by row, so scikit-learn's tools split rows within
every task. ``TaskStratifiedKFold`` keeps every task and class in every fold.

Run: ``SKMTL_DATA_HOME=../shared/data python examples/cross_validation.py``
"""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline

from skmtl import PerTaskClassifier, TaskStandardScaler, TaskStratifiedKFold
from skmtl.datasets import load_pmlb_tasks


def main():
    tasks, _ = load_pmlb_tasks(["iris", "wine_recognition", "glass", "ecoli"], min_class_count=5)
    pipe = Pipeline(
        [
            ("scale", TaskStandardScaler()),
            ("clf", PerTaskClassifier(LogisticRegression(max_iter=2000))),
        ]
    )

    scores = cross_val_score(pipe, tasks, tasks.y, cv=KFold(5, shuffle=True, random_state=0))
    print("KFold(5) mean per-task accuracy per fold:", scores.round(3))

    cv = TaskStratifiedKFold(n_splits=5, random_state=0)
    scores = cross_val_score(pipe, tasks, tasks.y, cv=cv)
    print("TaskStratifiedKFold(5) per fold:           ", scores.round(3))

    grid = GridSearchCV(pipe, {"clf__estimator__C": [0.01, 0.1, 1.0, 10.0]}, cv=cv, n_jobs=2)
    grid.fit(tasks, tasks.y)
    print("best C:", grid.best_params_["clf__estimator__C"], "score:", round(grid.best_score_, 3))

    try:
        from skmtl import SharedVariableEmbeddingClassifier
    except ImportError:
        return
    # the defaults, with a shorter epoch budget to keep the 7 fits of the grid quick
    model = SharedVariableEmbeddingClassifier(max_epochs=100, random_state=0)
    grid = GridSearchCV(model, {"lr": [1e-3, 2e-3]}, cv=TaskStratifiedKFold(3, random_state=0))
    grid.fit(tasks)
    print("SVE grid:", grid.best_params_, round(grid.best_score_, 3))


if __name__ == "__main__":
    main()
