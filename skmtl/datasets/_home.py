"""Where skmtl looks for data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["get_data_home"]


def get_data_home(data_home=None):
    """Return the folder holding skmtl's data caches.

    Resolution order: the ``data_home`` argument, the ``SKMTL_DATA_HOME`` environment
    variable, then ``~/.cache/skmtl`` (``$XDG_CACHE_HOME/skmtl`` when set). The folder is
    created when missing. Inside it the loaders use ``pmlb/``, ``openml/`` and
    ``mnist/``, each in the layout its own client reads as a cache.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> get_data_home(tempfile.gettempdir()).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKMTL_DATA_HOME")
    if data_home is None:
        cache = os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache"))
        data_home = os.path.join(cache, "skmtl")
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
