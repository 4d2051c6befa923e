"""Does multi-task training disentangle? A small run on locally rendered sprites.

Renders dSprites-like images with known factors (shape, scale, orientation, x, y), builds 10
regression tasks from random tanh networks of the factors, trains a single-task network and
a 10-head hard-sharing network with :class:`skmtl.hard_sharing.HardSharingRegressor`, and
scores the latent codes of held-out images with the four disentanglement metrics.

Run (about 2 minutes on one CPU core)::

    OMP_NUM_THREADS=1 python examples/disentanglement.py

``benchmarks/disentangle.py`` is the full protocol (several seeds, every single task, the
one-head baseline, a tabular dataset).
"""

from skmtl.datasets.factors import SPRITE_FACTOR_NAMES, make_factor_tasks, make_sprites
from skmtl.hard_sharing import HardSharingRegressor
from skmtl.metrics import dataset_sampler, dci, factor_vae_score, mutual_info_gap, sap_score

# 1. data: images, factor classes, 10 random-network tasks of the factors
images, values, classes = make_sprites(2500, image_size=32, random_state=0)
X = images.reshape(len(images), -1)  # skmtl estimators take 2-D inputs
Y = make_factor_tasks(values, n_tasks=10, random_state=1)
X_train, X_test = X[:2000], X[2000:]
Y_train, Y_test = Y[:2000], Y[2000:]
z_test = classes[2000:]
print(f"{len(X)} sprites, factors {SPRITE_FACTOR_NAMES}, {Y.shape[1]} tasks")

common = dict(
    image_shape=(32, 32),  # switches the encoder to the convolutional net
    conv_channels=(16, 32, 32, 64),
    latent_dim=10,
    max_epochs=10,
    random_state=0,
)
models = {
    # an untrained network: the "random" reference
    "random": HardSharingRegressor(heads="per_output", **common).initialize(X_train, Y_train),
    # a single task: fit one target column
    "single-task (task 0)": HardSharingRegressor(**common).fit(X_train, Y_train[:, 0]),
    # ten heads on one shared encoder, every image feeding all heads
    "multi-head (10 tasks)": HardSharingRegressor(heads="per_output", **common).fit(
        X_train, Y_train
    ),
}
# The same multi-task network through the multi-task API (10 tasks sharing X):
#   HardSharingRegressor(heads="multi", **common).fit([(X_train, y) for y in Y_train.T])

# 2. score the latent codes of the test images
print(f"\n{'model':<24}{'MIG':>7}{'FVAE':>7}{'SAP':>7}{'DCI-D':>7}{'DCI-C':>7}{'DCI-I':>7}")
for name, est in models.items():
    codes = est.transform(X_test)  # (n_test, latent_dim)
    d = dci(z_test, codes)
    fvae = factor_vae_score(dataset_sampler(z_test, codes), lambda c: c, z_test.shape[1])
    print(
        f"{name:<24}{mutual_info_gap(z_test, codes):7.3f}{fvae:7.3f}"
        f"{sap_score(z_test, codes):7.3f}{d['disentanglement']:7.3f}"
        f"{d['completeness']:7.3f}{d['informativeness']:7.3f}"
    )
r2 = models["multi-head (10 tasks)"].score(X_test, Y_test)
print(f"\nmulti-head test R^2 (mean over the 10 tasks): {r2:.3f}")
