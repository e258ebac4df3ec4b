"""The one place that imports private scikit-learn names.

scikit-learn's parameter-validation machinery is not public API, so every use of it
goes through this module: if a future scikit-learn moves these names, only this file
changes.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.optimize import _check_optimize_result

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_check_optimize_result",
    "_fit_context",
    "validate_parameter_constraints",
]
