"""One conversion of a ``random_state`` argument into a numpy ``Generator``."""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator"]


def as_generator(random_state):
    """A ``numpy.random.Generator`` from an int, None, RandomState or Generator.

    A Generator is returned as is (so successive calls advance it); a legacy
    ``RandomState`` seeds a new Generator from one draw, as scikit-learn estimators
    consume a RandomState; an int or None seeds ``numpy.random.default_rng``.

    Examples
    --------
    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    >>> g = np.random.default_rng(1)
    >>> as_generator(g) is g
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)
