"""The one place that imports private scikit-learn names.

scikit-learn's parameter-validation machinery, its fit-context decorator and two
data helpers (``_check_sample_weight``, ``_safe_indexing``) are not public API, so
every use of them goes through this module: if a future scikit-learn moves these
names, only this file changes.
"""

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
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
