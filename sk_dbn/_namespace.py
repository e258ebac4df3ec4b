"""Where a fitted estimator lives: its arrays' namespace and device.

With ``sklearn.set_config(array_api_dispatch=True)``, an estimator fitted on
PyTorch tensors or CuPy arrays keeps its fitted arrays in that namespace, on
that device (scikit-learn's convention), except what stays on the host: the
class labels (``classes_``), the feature names and the running moments of
Gaussian visible units (float64 statistics of the data, combined on the host).

- :func:`data_namespace`: the namespace and device of the input ``X`` of a fit.
- :func:`check_same_place`: inputs after a fit must come from the namespace
  and device of that fit, as scikit-learn's estimators require.
- :func:`move_estimator_to`: the same fitted model with its arrays in another
  namespace and on another device (public, for saving a GPU model without
  PyTorch, and back).
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import clone

from ._ops import to_host
from .utils._sklearn import array_namespace, get_namespace_and_device

HOST_ATTRIBUTES = ("classes_", "feature_names_in_", "moments")
"""Fitted attributes (and layer-state keys) that stay numpy arrays on the host."""


def data_namespace(X):
    """``(xp, device)`` of ``X`` under scikit-learn's dispatch setting: numpy and
    None unless dispatch is on and ``X`` is a non-numpy array (a scipy sparse
    matrix stays on the numpy path)."""
    if sp.issparse(X) or not get_config()["array_api_dispatch"]:
        return np, None
    xp, _, device = get_namespace_and_device(X)
    return xp, device


def _is_numpy(xp):
    return xp is np or getattr(xp, "__name__", "").endswith("numpy")


def check_same_place(estimator, X, method):
    """A ``ValueError`` unless ``X`` comes from the namespace and device of the
    arrays ``estimator`` was fitted on (its ``coefs_``). Without array-API
    dispatch, inputs are numpy: a model fitted on another namespace's arrays
    needs the dispatch, or :func:`move_estimator_to` numpy."""
    fitted = estimator.coefs_[0]
    if not get_config()["array_api_dispatch"]:
        if isinstance(fitted, np.ndarray):
            return
        raise ValueError(
            f"{type(estimator).__name__}.{method}() got numpy input, but the model "
            f"was fitted on arrays of {array_namespace(fitted).__name__} (with "
            "sklearn.set_config(array_api_dispatch=True)). Call it under that "
            "setting with arrays like the fit's, or move the model first: "
            "sk_dbn.move_estimator_to(estimator, numpy)."
        )
    a_xp, _, a_device = get_namespace_and_device(fitted)
    if sp.issparse(X):
        x_xp, x_device = np, None
    else:
        x_xp, _, x_device = get_namespace_and_device(X)
    if _is_numpy(a_xp) and _is_numpy(x_xp):
        return
    if x_xp.__name__ == a_xp.__name__ and str(x_device) == str(a_device):
        return
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same "
        "namespace and the same device as those passed to fit(). Array namespaces "
        f"used during fit ({a_xp.__name__}, device {a_device}) and {method} "
        f"({x_xp.__name__}, device {x_device}) differ. Move the model to X's "
        "namespace and device with sk_dbn.move_estimator_to(estimator, xp, "
        "device), or pass X as the fit's arrays were passed."
    )


def move_estimator_to(estimator, xp, device=None):
    """A copy of a fitted sk_dbn estimator whose arrays are in namespace ``xp``
    on ``device``.

    With ``import numpy as np; move_estimator_to(model, np)`` a model fitted on
    a GPU (PyTorch or CuPy arrays, under ``sklearn.set_config(
    array_api_dispatch=True)``) becomes the same model with numpy arrays: it
    pickles and loads with skops without PyTorch, and predicts on numpy input.
    ``move_estimator_to(model, torch, device="cuda")`` (``xp`` may also be the
    array-API namespace of an array, e.g. from ``array_api_compat``) moves it
    back, to predict or continue training on the GPU. The class labels, the
    feature names and the moments of Gaussian visible units stay on the host.
    Other estimators inside (the ``pretrainer_`` of a network) move too; the
    estimator itself is not changed.

    Parameters
    ----------
    estimator : DBNClassifier, DBNRegressor or StackedRBMTransformer
        A fitted estimator.
    xp : module
        The target namespace: ``numpy``, ``torch``, ``cupy``, or an array-API
        namespace.
    device : str or device, default=None
        The target device (``"cuda"``, ``"cpu"``, a device object); None for
        the namespace's default (the host, for numpy).

    Returns
    -------
    estimator : estimator
        A new estimator with the same parameters and fitted state, its arrays
        in ``xp`` on ``device``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_dbn import DBNClassifier, move_estimator_to
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = DBNClassifier((16,), init="xavier_uniform", early_stopping=True,
    ...                     random_state=0).fit(X / 16, y)
    >>> host = move_estimator_to(clf, np)  # a GPU model would come back here
    >>> bool((host.predict(X / 16) == clf.predict(X / 16)).all())
    True
    """
    if _is_numpy(xp):
        def convert(a):
            return _to_numpy(a)
    else:
        def convert(a):
            return xp.asarray(_to_numpy(a) if _on_cuda_elsewhere(a, xp) else a,
                              device=device)

    return _moved(estimator, convert)


def _moved(estimator, convert):
    """A clone of ``estimator`` with its fitted arrays converted by ``convert``."""
    new = clone(estimator)
    for key, value in vars(estimator).items():
        setattr(new, key, value if key in HOST_ATTRIBUTES
                else _converted(value, convert))
    return new


def _converted(value, convert):
    """``value`` with every array inside (lists, tuples, dicts, estimators)
    converted, except the host attributes."""
    if isinstance(value, dict):
        return {k: v if k in HOST_ATTRIBUTES else _converted(v, convert)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_converted(v, convert) for v in value)
    if hasattr(value, "get_params") and hasattr(value, "coefs_"):
        return _moved(value, convert)
    if _is_array(value):
        return convert(value)
    return value


def _is_array(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind in "fiub" and not isinstance(value, numbers.Number)
    return hasattr(value, "__dlpack__") and hasattr(value, "shape")


def _to_numpy(a):
    return to_host(a)


def _on_cuda_elsewhere(a, xp):
    """Whether ``a`` is a non-numpy array of another namespace than ``xp`` (it
    goes through the host)."""
    if isinstance(a, np.ndarray):
        return False
    return array_namespace(a).__name__ != getattr(xp, "__name__", "")
