"""The one place that imports private scikit-learn names.

scikit-learn's parameter-validation machinery, its fit-context decorator and two
data helpers (``_check_sample_weight``, ``_safe_indexing``) are not public API, so
every use of them goes through this module: if a future scikit-learn moves these
names, only this file changes.
"""

from sklearn.base import _fit_context
from sklearn.externals.array_api_compat import (
    array_namespace,
    is_cupy_array,
    is_torch_array,
)
from sklearn.externals.array_api_compat import numpy as numpy_namespace
from sklearn.utils import _safe_indexing
from sklearn.utils._array_api import _convert_to_numpy as convert_to_numpy
from sklearn.utils._array_api import (
    check_same_namespace,
    get_namespace_and_device,
    move_estimator_to,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "array_namespace",
    "check_same_namespace",
    "convert_to_numpy",
    "get_namespace_and_device",
    "is_cupy_array",
    "is_torch_array",
    "move_estimator_to",
    "numpy_namespace",
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "validate_parameter_constraints",
]
