"""Hashes of seeded fits from two checkouts: did a change alter any result?

``python -m benchmarks.fingerprints DIR_A DIR_B [--show]``

Not part of the benchmark run. For a refactoring that must not change behaviour
(or a change that must alter only some results): each checkout fits the same
~90 small seeded configurations in a fresh interpreter with that checkout first
on ``sys.path`` -- every registry init, ``"lsuv"``, ``"rbm"``, unfitted, fitted
and frozen transformers, a callable, every activation, each solver and
schedule, dropout, early stopping, ``partial_fit`` and ``warm_start``
sequences, sample weights, unlabelled rows, multilabel and multi-output
targets, float32, and the transformer's unit types, persistent chains and
generative methods -- and hashes every fitted array and output bit for bit.
It prints the configurations whose hashes differ (exit status 1 if any).
"""

import argparse
import json
import os
import subprocess
import sys

CHILD = r'''
import hashlib, json, sys, warnings
from functools import partial
import numpy as np
warnings.simplefilter("ignore")
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer
from sk_dbn.initializers import INITIALIZERS, he_normal

X, y = load_digits(return_X_y=True)
X = X[:240] / 16
y = y[:240]
X32 = X.astype(np.float32)
y3 = y % 3
Xr = np.random.default_rng(0).normal(size=(150, 5))
yr = Xr @ [1.0, -2.0, 0.5, 0.0, 3.0] + np.sin(Xr[:, 0])
out = {}


def digest(*objs):
    h = hashlib.sha256()
    for o in objs:
        if isinstance(o, (list, tuple)):
            h.update(digest(*o).encode())
        elif o is None:
            h.update(b"None")
        else:
            a = np.asarray(o)
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def net_state(est, Xp):
    pred = (est.predict_proba(Xp) if hasattr(est, "predict_proba")
            else est.predict(Xp))
    return digest(est.coefs_, est.intercepts_, getattr(est, "loss_curve_", None),
                  est.loss_, est.n_iter_, est.t_, pred)


def record(name, fn):
    try:
        out[name] = fn()
    except Exception as exc:  # a configuration that fails is a result too
        out[name] = f"error: {type(exc).__name__}: {exc}"[:200]


def clf(Xf=X, yf=y3, fit_kw=None, **params):
    base = dict(hidden_layer_sizes=(16, 8), max_iter=4, random_state=0,
                learning_rate_init=0.01)
    base.update(params)
    est = DBNClassifier(**base).fit(Xf, yf, **(fit_kw or {}))
    return net_state(est, Xf[:50])


tiny_rbm = dict(n_iter=2, batch_size=16)
for name in sorted(INITIALIZERS):
    record(f"clf init={name}", lambda n=name: clf(init=n))
for act in ("logistic", "tanh", "relu", "leaky_relu", "identity"):
    record(f"clf rbm {act}", lambda a=act: clf(
        init=StackedRBMTransformer((16, 8), hidden_units="relu" if "relu" in a
                                   else "bernoulli", **tiny_rbm), activation=a))
    record(f"clf lsuv {act}", lambda a=act: clf(init="lsuv", activation=a))
record("clf init=rbm default", lambda: clf(hidden_layer_sizes=(8,), init="rbm",
                                           max_iter=2))
record("clf maxout lsuv", lambda: clf(init="lsuv", activation="maxout",
                                      maxout_pieces=3))
record("clf maxout he", lambda: clf(init="he_normal", activation="maxout"))
record("clf vlrelu", lambda: clf(init="he_normal", activation="leaky_relu",
                                 negative_slope=1 / 3))
record("clf callable", lambda: clf(init=partial(he_normal, mode="fan_out"),
                                   activation="relu"))
fitted = StackedRBMTransformer((16, 8), random_state=1, **tiny_rbm).fit(X)
record("clf fitted stack", lambda: clf(init=fitted))
record("clf frozen stack", lambda: clf(init=FrozenEstimator(fitted)))
for solver, extra in [("sgd", {}), ("sgd", {"learning_rate": "invscaling"}),
                      ("sgd", {"learning_rate": "adaptive", "max_iter": 30}),
                      ("sgd", {"nesterovs_momentum": False}),
                      ("lbfgs", {"max_iter": 20}), ("adam", {"dropout": 0.3}),
                      ("adam", {"early_stopping": True, "max_iter": 15}),
                      ("sgd", {"early_stopping": True, "max_iter": 15,
                               "n_iter_no_change": 2}),
                      ("adam", {"alpha": 0.1, "batch_size": 17})]:
    record(f"clf {solver} {extra}", lambda s=solver, e=extra: clf(
        init="xavier_uniform", solver=s, **e))
    record(f"clf rbm {solver} {extra}", lambda s=solver, e=extra: clf(
        init=StackedRBMTransformer((16, 8), **tiny_rbm), solver=s, **e))
w = np.random.default_rng(3).integers(0, 3, size=X.shape[0]).astype(float)
record("clf sample_weight", lambda: clf(init="lsuv", fit_kw={"sample_weight": w}))
record("clf rbm sample_weight", lambda: clf(
    init=StackedRBMTransformer((16, 8), **tiny_rbm), fit_kw={"sample_weight": w}))
y_part = np.where(np.arange(X.shape[0]) % 4 == 0, y3, -1)
record("clf unlabeled", lambda: clf(
    init=StackedRBMTransformer((16, 8), **tiny_rbm), unlabeled=-1, yf=y_part))
record("clf unlabeled lsuv", lambda: clf(init="lsuv", unlabeled=-1, yf=y_part))
# unlabelled rows kept out of fine-tuning (unlabeled_loss=None where the
# parameter exists): long enough for a ramp of unlabeled_loss to have begun
off = ({"unlabeled_loss": None} if "unlabeled_loss" in DBNClassifier().get_params()
       else {})
record("clf unlabeled, 30 epochs, off", lambda: clf(
    init=StackedRBMTransformer((16, 8), **tiny_rbm), unlabeled=-1, yf=y_part,
    max_iter=30, n_iter_no_change=30, **off))
record("clf unlabeled sgd dropout, 30 epochs, off", lambda: clf(
    init="lsuv", solver="sgd", dropout=0.2, unlabeled=-1, yf=y_part, max_iter=30,
    n_iter_no_change=30, **off))
Y = np.column_stack([y % 2, y > 4, y % 3 == 0]).astype(int)
record("clf multilabel", lambda: clf(init="xavier_uniform", yf=Y))
record("clf binary", lambda: clf(init="he_uniform", yf=y % 2))
record("clf float32", lambda: clf(init=StackedRBMTransformer((16, 8), **tiny_rbm),
                                  Xf=X32))
record("clf float32 lbfgs", lambda: clf(init="lsuv", solver="lbfgs", Xf=X32))
record("clf strings", lambda: clf(init="xavier_normal",
                                  yf=np.array(["a", "b", "c"])[y3]))


def partial_sequence(**params):
    est = DBNClassifier((16, 8), random_state=0, learning_rate_init=0.01, **params)
    for k in range(4):
        rows = slice(60 * k, 60 * (k + 1))
        est.partial_fit(X[rows], y3[rows], classes=[0, 1, 2])
    return net_state(est, X[:50])


record("partial_fit adam", lambda: partial_sequence(init="xavier_uniform"))
record("partial_fit sgd adaptive", lambda: partial_sequence(
    init="lecun_normal", solver="sgd", learning_rate="adaptive"))
record("partial_fit rbm", lambda: partial_sequence(
    init=StackedRBMTransformer((16, 8), **tiny_rbm)))


def warm(**params):
    est = DBNClassifier((16, 8), warm_start=True, max_iter=3, random_state=0,
                        **params)
    est.fit(X, y3)
    est.fit(X[::-1], y3[::-1])
    return net_state(est, X[:50])


record("warm_start adam", lambda: warm(init="xavier_uniform"))
record("warm_start lbfgs->adam", lambda: warm(init="lsuv", solver="lbfgs"))


def reg(Xf=Xr, yf=yr, **params):
    base = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
                learning_rate_init=0.01)
    base.update(params)
    est = DBNRegressor(**base).fit(Xf, yf)
    return net_state(est, Xf[:50])


record("reg default", lambda: reg())
record("reg rbm", lambda: reg(init=StackedRBMTransformer((16,), **tiny_rbm),
                              activation="tanh"))
record("reg rbm relu", lambda: reg(init="rbm"))
record("reg lsuv lbfgs", lambda: reg(init="lsuv", solver="lbfgs", max_iter=30))
record("reg multioutput", lambda: reg(yf=np.column_stack([yr, -yr, yr ** 2])))
record("reg poisson", lambda: reg(loss="poisson", yf=np.abs(yr)))
record("reg early_stopping", lambda: reg(early_stopping=True, max_iter=20))
record("reg float32", lambda: reg(Xf=Xr.astype(np.float32)))


def stack(Xf=X, fit_kw=None, **params):
    base = dict(hidden_layer_sizes=(16, 8), n_iter=3, batch_size=16, random_state=0)
    base.update(params)
    est = StackedRBMTransformer(**base).fit(Xf, **(fit_kw or {}))
    H = est.transform(Xf[:50])
    return digest(est.coefs_, est.intercepts_, est.intercepts_visible_,
                  est.reconstruction_error_, H, est.inverse_transform(H))


record("stack default", lambda: stack())
record("stack cd3 pcd", lambda: stack(cd_k=3, persistent=True))
record("stack relu", lambda: stack(hidden_units="relu"))
record("stack gaussian", lambda: stack(Xf=Xr))
record("stack gaussian relu", lambda: stack(Xf=Xr * 50 + 1e4, hidden_units="relu"))
record("stack float32", lambda: stack(Xf=X32))
record("stack sample_weight", lambda: stack(fit_kw={"sample_weight": w}))
record("stack init", lambda: stack(init="xavier_uniform", momentum=0.5))


def stream(Xf, **params):
    est = StackedRBMTransformer((16,), batch_size=16, random_state=0, **params)
    for k in range(3):
        est.partial_fit(Xf[50 * k: 50 * (k + 1)])
    return digest(est.coefs_, est.intercepts_, est.intercepts_visible_,
                  est.transform(Xf[:50]))


record("stack partial_fit", lambda: stream(X))
record("stack partial_fit gaussian", lambda: stream(Xr * 10 + 3))


def generative():
    est = StackedRBMTransformer((16, 8), n_iter=3, batch_size=16,
                                random_state=0).fit(X)
    return digest(est.gibbs(X[:20]), est.gibbs(X[:20]),
                  est.sample(5, n_steps=20, random_state=0),
                  est.score_samples(X[:20]),
                  est.log_likelihood(X[:50], n_chains=10, n_betas=50,
                                     random_state=0))


record("stack generative", generative)
print(json.dumps(out))
'''


def fingerprints(checkout):
    """``{configuration: hash}`` of ``checkout``'s sk_dbn, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(checkout)}
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=checkout, env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir_a")
    parser.add_argument("dir_b")
    parser.add_argument("--show", action="store_true",
                        help="print every configuration, not only the differences")
    args = parser.parse_args(argv)
    a, b = fingerprints(args.dir_a), fingerprints(args.dir_b)
    differ = [k for k in a if a[k] != b.get(k)] + [k for k in b if k not in a]
    for key in a if args.show else differ:
        mark = "DIFFERS" if key in differ else "same"
        print(f"{mark:8} {key}: {a.get(key)} -> {b.get(key)}")
    print(f"{len(a)} configurations; {len(differ)} differ.")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
