"""
=========================
Exporting a model to ONNX
=========================

A fitted sk_dbn model can leave Python: after ``import sk_dbn.onnx``,
`skl2onnx <https://onnx.ai/sklearn-onnx/>`_ converts it to an ONNX graph, and
`onnxruntime <https://onnxruntime.ai>`_ runs that graph from C++, C#, Java,
JavaScript (in a browser, through onnxruntime-web) or Python, without sk_dbn,
scikit-learn or numpy. Here a deep belief network, pre-processing included,
is trained on the digits, exported, run by onnxruntime, and compared with the
estimator. Install the converter and the runtime with the ``onnx`` extra,
``python -m pip install ".[onnx]"`` from the sk_dbn checkout.
"""

# %%
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import sk_dbn.onnx  # noqa: F401  (registers sk_dbn's converters with skl2onnx)
from sk_dbn import DBNClassifier

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)  # a float32 model: float32 weights and ONNX graph
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
model = make_pipeline(
    MinMaxScaler(), DBNClassifier((128,), init="rbm", max_iter=100, random_state=0)
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # enough epochs here
    model.fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

# %%
# Export
# ------
# ``to_onnx`` reads the input's type and width from a sample row. The
# classifier has two outputs, the labels and the probabilities; ``zipmap=False``
# gives the probabilities as one matrix rather than a list of dictionaries.
onx = to_onnx(model, X_train[:1], options={"zipmap": False})
folder = Path(tempfile.mkdtemp())
path = folder / "digits_dbn.onnx"
path.write_bytes(onx.SerializeToString())
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB, "
      f"{len(onx.graph.node)} nodes:",
      " ".join(node.op_type for node in onx.graph.node))

# %%
# Run with onnxruntime
# --------------------
# This is all a deployment needs: the ``.onnx`` file and onnxruntime.
session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
print("inputs:", [(i.name, i.type, i.shape) for i in session.get_inputs()])
print("outputs:", [(o.name, o.type, o.shape) for o in session.get_outputs()])
labels, proba = session.run(None, {"X": X_test})
shutil.rmtree(folder)  # clean up the file written above

# %%
# Compare with the estimator
# --------------------------
# The same labels, and the same probabilities to float32's precision: the graph
# computes what sk_dbn computes, operation for operation, in the same dtype.
expected = model.predict_proba(X_test)
print("same labels:", np.array_equal(labels, model.predict(X_test)))
print(f"largest probability difference: {np.abs(proba - expected).max():.1e}")
nonzero = expected > 0
relative = np.abs(proba - expected)[nonzero] / expected[nonzero]
print(f"largest relative difference: {relative.max():.1e}")

# %%
# A float64 model
# ---------------
# The graph computes in the model's dtype, and its inputs and outputs have the
# sample's: give a float64 sample for a graph that is float64 from end to end.
# ONNX's ZipMap takes float32 only, so keep the probabilities as a matrix.
model64 = make_pipeline(
    MinMaxScaler(), DBNClassifier((64,), init="xavier_uniform", max_iter=50,
                                  random_state=0)
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model64.fit(X_train.astype(np.float64), y_train)
X_test64 = X_test.astype(np.float64)
onx64 = to_onnx(model64, X_test64[:1], options={"zipmap": False})
session64 = ort.InferenceSession(onx64.SerializeToString(),
                                 providers=["CPUExecutionProvider"])
labels64, proba64 = session64.run(None, {"X": X_test64})
print("probabilities dtype:", proba64.dtype)
print("same labels:", np.array_equal(labels64, model64.predict(X_test64)))
print(f"largest probability difference: "
      f"{np.abs(proba64 - model64.predict_proba(X_test64)).max():.1e}")
