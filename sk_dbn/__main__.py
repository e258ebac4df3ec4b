"""``python -m sk_dbn``: the demo (placeholder until the full table lands)."""

import sys

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sk_dbn import StackedRBMTransformer


def main(argv=None):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    pipe = Pipeline([
        ("scale", MinMaxScaler()),
        ("rbm", StackedRBMTransformer((256,), random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    pipe.fit(X_train, y_train)
    print(f"digits test accuracy: {pipe.score(X_test, y_test):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
