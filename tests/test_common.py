"""scikit-learn's estimator checks on both estimators."""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    check_set_output_transform,
    check_transformer_get_feature_names_out,
    parametrize_with_checks,
)

from sk_dbn import DBNClassifier, DBNRegressor, StackedRBMTransformer
from sk_dbn._initial_weights import is_pretraining

# scikit-learn's checks fit tiny data sets with the estimators' own max_iter, and
# many stop there: the ConvergenceWarning is expected and says nothing here
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    StackedRBMTransformer(),
    StackedRBMTransformer((8, 4), n_iter=3, batch_size=16),
    DBNClassifier(),
    # small and fast: larger steps so a few dozen epochs fit the checks' blobs
    DBNClassifier((8,), init="xavier_uniform", learning_rate_init=0.02, max_iter=50),
    DBNClassifier((8, 6), init=StackedRBMTransformer((8, 6), n_iter=2),
                  activation="tanh", learning_rate_init=0.02, max_iter=50),
    DBNClassifier((8,), init=StackedRBMTransformer((8,), n_iter=2)),
    DBNClassifier((8,), init="lsuv", activation="relu", solver="sgd",
                  learning_rate_init=0.05, max_iter=50),
    # beyond the defaults: early stopping (its split on tiny data), PCD-3 with
    # Gaussian visible and NReLU hidden units
    DBNClassifier(init="lsuv", activation="tanh", solver="sgd", early_stopping=True),
    DBNClassifier(init="rbm", activation="relu", early_stopping=True),
    StackedRBMTransformer(persistent=True, cd_k=3, visible_units="gaussian",
                          hidden_units="relu"),
    # the activations with parameters: maxout (3 pieces per unit, LSUV per
    # piece) and Graham's very leaky ReLU
    DBNClassifier((8,), init="lsuv", activation="maxout", maxout_pieces=3,
                  learning_rate_init=0.02, max_iter=50),
    DBNClassifier((8,), init="he_uniform", activation="leaky_relu",
                  negative_slope=1 / 3, learning_rate_init=0.02, max_iter=50),
    # L-BFGS, and dropout
    DBNClassifier((8,), init="xavier_uniform", solver="lbfgs"),
    DBNClassifier((8,), init="xavier_uniform", dropout=0.5, learning_rate_init=0.02,
                  max_iter=50),
    DBNRegressor(),
    DBNRegressor((16,), solver="lbfgs"),
    DBNRegressor((8,), init="lsuv", activation="tanh", solver="sgd",
                 learning_rate_init=0.01, max_iter=50),
    DBNRegressor((8,), loss="poisson", init="xavier_uniform",
                 learning_rate_init=0.01),
    DBNRegressor((16,), init="rbm", activation="logistic", learning_rate_init=0.01),
    # R² needs two validation rows: 0.2 of the checks' 10-row data sets
    DBNRegressor((16,), init="xavier_uniform", early_stopping=True,
                 validation_fraction=0.2, learning_rate_init=0.01),
]

_STOCHASTIC_WEIGHTS = (
    "{} draws random numbers per row position: CD samples hidden states for "
    "each row of a mini-batch{}. A row of weight k draws one sample where k "
    "repeated rows draw k independent ones, so the two fits are equal in "
    "distribution, not to 1e-7 (tests/test_sample_weight.py checks both the "
    "exact batch statistics and the equivalence in distribution)."
)


_PARTIAL_FIT_EARLY_STOPPING = (
    "partial_fit refuses early_stopping=True with MLPClassifier's ValueError "
    "('partial_fit does not support early_stopping=True': one epoch has no "
    "validation curve), which these checks do not expect from a partial_fit "
    "that exists; MLPClassifier(early_stopping=True) and "
    "MLPRegressor(early_stopping=True) fail them the same way.")


def _expected_failures(estimator):
    """The checks that cannot hold, and why."""
    failures = {}
    if getattr(estimator, "early_stopping", False) and estimator.solver != "lbfgs":
        failures = dict.fromkeys(("check_estimators_partial_fit_n_features",
                                  "check_fit_score_takes_y",
                                  "check_n_features_in_after_fitting"),
                                 _PARTIAL_FIT_EARLY_STOPPING)
    return {**failures, **_sample_weight_failures(estimator)}


def _sample_weight_failures(estimator):
    """The checks of a randomised fit that cannot hold, and why."""
    if getattr(estimator, "loss", None) == "poisson":
        return {"check_regressor_multioutput": (
            "The check's multi-output targets ignore the positive_only tag: they "
            "are negative, which the Poisson loss rejects (as MLPRegressor's "
            "does; the check is not run on it, whose tags say single-output).")}
    if isinstance(estimator, StackedRBMTransformer):
        reason = _STOCHASTIC_WEIGHTS.format("Pre-training", "")
    elif is_pretraining(estimator.init):
        reason = _STOCHASTIC_WEIGHTS.format(
            "Pre-training (init=...)", ", before the deterministic fine-tuning")
    elif estimator.dropout:
        reason = ("Dropout draws a mask per row of each mini-batch: k repeated "
                  "rows train k thinned networks where a row of weight k trains "
                  "one, so the fits agree in distribution, not to 1e-7.")
    elif estimator.early_stopping and estimator.solver != "lbfgs":
        reason = ("The early-stopping split draws rows at random: repeated copies "
                  "of a row can fall on both sides of it, a weighted row on one "
                  "(as in MLPClassifier).")
    else:
        return {}
    return {"check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_no_expected_failures_for_the_default_regressor_and_a_classifier():
    assert _expected_failures(DBNRegressor()) == {}
    assert _expected_failures(ESTIMATORS[3]) == {}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_dataframe_column_names(estimator):
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS[:2], ids=repr)
def test_transformer_output_checks(estimator):
    name = type(estimator).__name__
    check_set_output_transform(name, estimator)
    check_transformer_get_feature_names_out(name, estimator)
