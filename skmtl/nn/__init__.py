"""Torch modules of skmtl (no scikit-learn imports here)."""
