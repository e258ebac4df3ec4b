"""scikit-learn's estimator checks on both estimators."""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    check_set_output_transform,
    check_transformer_get_feature_names_out,
    parametrize_with_checks,
)

from sk_dbn import DBNClassifier, StackedRBMTransformer

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
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


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
