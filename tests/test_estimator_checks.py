"""scikit-learn's own estimator checks on every skmtl estimator in its single-task form.

A plain ``(X, y)`` is one task. Checks that cannot hold by design are listed in
``EXPECTED_FAILED_CHECKS`` with the reason (also in docs/reliability.md); everything else
must pass.
"""

from estimators import tiny_estimators
from sklearn.utils.estimator_checks import parametrize_with_checks

EXPECTED_FAILED_CHECKS = {}


def _expected(est):
    return EXPECTED_FAILED_CHECKS.get(type(est).__name__, {})


@parametrize_with_checks(list(tiny_estimators().values()), expected_failed_checks=_expected)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
