"""Scale-out on Dask: grid searches through joblib's dask backend, dask-ml.

Needs the ``dask`` extra (``dask[distributed]``); ``dask-ml`` is optional. The
cluster runs its two workers as threads of this process (``processes=False``):
it starts in a fraction of a second and still sends every fit through the
scheduler. Worker *processes* behave the same (see the README on BLAS threads).
"""


import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sk_dbn import DBNClassifier

distributed = pytest.importorskip("dask.distributed")

INITS = ["xavier_uniform", "he_normal", "orthogonal", "lsuv", "rbm", "zeros"]


pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _digits(n=240):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


def _small():
    return DBNClassifier((12,), init="xavier_uniform", max_iter=5,
                         learning_rate_init=0.03, random_state=0)


RESULT_KEYS = ["mean_test_score", "std_test_score", "rank_test_score",
               *(f"split{k}_test_score" for k in range(3))]


def test_grid_search_on_a_dask_cluster_matches_sequential(client):
    X, y = _digits()
    sequential = GridSearchCV(_small(), {"init": INITS}, cv=3, n_jobs=1).fit(X, y)
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_backend("dask"):
            parallel = GridSearchCV(_small(), {"init": INITS}, cv=3,
                                    n_jobs=-1).fit(X, y)
    # the fits really ran on the cluster's workers
    assert len(tasks.data) >= len(INITS)
    workers = {t["worker"] for t in tasks.data}
    assert workers <= set(client.scheduler_info()["workers"])

    assert parallel.cv_results_["params"] == sequential.cv_results_["params"]
    for key in RESULT_KEYS:
        np.testing.assert_array_equal(parallel.cv_results_[key],
                                      sequential.cv_results_[key], err_msg=key)
    assert parallel.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(parallel.predict_proba(X),
                                  sequential.predict_proba(X))
    # zeros never breaks symmetry: ranked last on the cluster as everywhere
    ranks = dict(zip(parallel.cv_results_["param_init"],
                     parallel.cv_results_["rank_test_score"]))
    assert ranks["zeros"] == max(ranks.values())


def test_dask_ml_incremental_partial_fit_matches_sequential(client):
    wrappers = pytest.importorskip("dask_ml.wrappers")
    da = pytest.importorskip("dask.array")
    X, y = _digits(600)
    classes = np.unique(y)
    Xd = da.from_array(X, chunks=(100, X.shape[1]))
    yd = da.from_array(y, chunks=100)

    inc = wrappers.Incremental(_small(), scoring="accuracy", shuffle_blocks=False)
    inc.fit(Xd, yd, classes=classes)

    # the same as one partial_fit per block, in order
    reference = _small()
    for start in range(0, X.shape[0], 100):
        reference.partial_fit(X[start:start + 100], y[start:start + 100],
                              classes=classes)
    model = inc.estimator_
    assert len(model.loss_curve_) == len(reference.loss_curve_) == 6
    assert model.t_ == X.shape[0]
    for a, b in zip(model.coefs_ + model.intercepts_,
                    reference.coefs_ + reference.intercepts_):
        np.testing.assert_array_equal(a, b)

    pred = inc.predict(Xd)
    assert isinstance(pred, da.Array)  # lazily, block by block
    np.testing.assert_array_equal(pred.compute(), reference.predict(X))
    np.testing.assert_allclose(inc.predict_proba(Xd).compute(),
                               reference.predict_proba(X))
    assert inc.score(Xd, yd) == pytest.approx(reference.score(X, y))
    # another pass over the data continues training
    inc.partial_fit(Xd, yd, classes=classes)
    assert len(inc.estimator_.loss_curve_) == 12
