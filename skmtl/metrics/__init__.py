"""Metrics for representations learned by skmtl estimators.

Disentanglement metrics (numpy / scikit-learn only) comparing a representation with known
ground-truth factors: :func:`mutual_info_gap`, :func:`sap_score`, :func:`dci` and
:func:`factor_vae_score` (with :func:`dataset_sampler` to build its sampler from data).
"""

from skmtl.metrics.disentanglement import (
    dataset_sampler,
    dci,
    discretize,
    factor_vae_score,
    mutual_info_gap,
    sap_score,
)

__all__ = [
    "dataset_sampler",
    "dci",
    "discretize",
    "factor_vae_score",
    "mutual_info_gap",
    "sap_score",
]
