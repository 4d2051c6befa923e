"""Metrics for representations learned by skmtl estimators.

Disentanglement metrics (numpy / scikit-learn only) comparing a representation with known
ground-truth factors: :func:`mutual_info_gap`, :func:`sap_score`, :func:`dci` and
:func:`factor_vae_score` (with :func:`dataset_sampler` to build its sampler from data).
``reference="disentanglement_lib"`` (see :data:`REFERENCES`) makes :func:`sap_score` and
:func:`dci` reproduce that library's estimators. :func:`retrieved_components` counts the
factors matched by significant Spearman correlations (the study's Table 7), with
:func:`spearman_matrix` for the correlations themselves.
"""

from skmtl.metrics.correlation import retrieved_components, spearman_matrix
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
    "retrieved_components",
    "sap_score",
    "spearman_matrix",
]
