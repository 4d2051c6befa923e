import numpy as np, time
from skmtl.hypernet import MultiTaskHypernetRegressor
from skmtl.datasets.synthetic import make_cubic_tasks
FAST = dict(lr=1e-2, max_epochs=100, batch_size=64, n_iter_no_change=100, random_state=0)
tasks, meta = make_cubic_tasks(n_tasks=12, n_samples=110, random_state=1)
fit = [(X[:10], y[:10]) for X, y in tasks]; test = [(X[10:], y[10:]) for X, y in tasks]
rng = np.random.default_rng(0); sh = meta.apply(lambda c: rng.permutation(c.to_numpy()))
out=[]
for m in (meta, sh, None):
    t=time.time(); est=MultiTaskHypernetRegressor(**FAST).fit(fit, metadata=m)
    p=est.predict([X for X,_ in test]); out.append(np.mean([np.mean((a-y)**2) for a,(_,y) in zip(p,test)]))
    print(out, time.time()-t, flush=True)
