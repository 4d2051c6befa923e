"""Metrics for representations learned by skmtl estimators.

Disentanglement metrics (numpy / scikit-learn only) comparing a representation with known
ground-truth factors: :func:`mutual_info_gap`, :func:`sap_score`, :func:`dci` and
:func:`factor_vae_score` (with :func:`dataset_sampler` to build its sampler from data).
``reference="disentanglement_lib"`` (see :data:`REFERENCES`) makes :func:`sap_score` and
:func:`dci` reproduce that library's estimators.
"""

from skmtl.metrics.disentanglement import (
    REFERENCES,
    dataset_sampler,
    dci,
    discretize,
    factor_vae_score,
    mutual_info_gap,
    sap_score,
)

__all__ = [
    "REFERENCES",
    "dataset_sampler",
    "dci",
    "discretize",
    "factor_vae_score",
    "mutual_info_gap",
    "sap_score",
]
