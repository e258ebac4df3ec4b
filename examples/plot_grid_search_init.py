"""
=============================================
Choosing the initialisation with GridSearchCV
=============================================

``init`` is an ordinary hyper-parameter of :class:`~sk_dbn.DBNClassifier`, so
scikit-learn's model selection tools can choose it like any other. Here the
classifier sits in a :class:`~sklearn.pipeline.Pipeline` after a
:class:`~sklearn.preprocessing.MinMaxScaler` (RBM pre-training wants inputs in
[0, 1]), and :class:`~sklearn.model_selection.GridSearchCV` compares several
initialisations — and two activations — by 3-fold cross-validation.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sk_dbn import DBNClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pipe = Pipeline([
    ("scale", MinMaxScaler()),
    ("dbn", DBNClassifier((64, 64), max_iter=30, random_state=0)),
])
grid = {
    "dbn__init": ["zeros", "normal", "xavier_uniform", "he_normal", "lsuv", "rbm"],
    "dbn__activation": ["logistic", "relu"],
}
search = GridSearchCV(pipe, grid, cv=3)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs: a short budget
    search.fit(X_train, y_train)

print("best:", search.best_params_)
print(f"cross-validated accuracy {search.best_score_:.3f}, "
      f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# The ranking
# -----------
# ``cv_results_`` holds every candidate's fold scores; ``zeros`` never breaks the
# symmetry between hidden units and comes last.
results = search.cv_results_
for rank, i in enumerate(np.argsort(results["rank_test_score"]), start=1):
    params = results["params"][i]
    print(f"{rank:2d}. {params['dbn__init']:>15} + {params['dbn__activation']:<8} "
          f"{results['mean_test_score'][i]:.3f} ± {results['std_test_score'][i]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
inits = grid["dbn__init"]
width = 0.4
for k, activation in enumerate(grid["dbn__activation"]):
    mask = np.asarray(results["param_dbn__activation"]) == activation
    order = [list(results["param_dbn__init"][mask]).index(init) for init in inits]
    ax.bar(np.arange(len(inits)) + (k - 0.5) * width,
           results["mean_test_score"][mask][order], width,
           yerr=results["std_test_score"][mask][order], label=activation)
ax.set_xticks(range(len(inits)), inits)
ax.set_ylabel("3-fold CV accuracy")
ax.set_ylim(0, 1)
ax.legend(title="activation", loc="lower right")
ax.set_title("GridSearchCV over init")
plt.show()
