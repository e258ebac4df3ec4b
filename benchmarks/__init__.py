"""Benchmarks of sk_dbn against scikit-learn, printing markdown tables.

Run them all with ``python -m benchmarks [--quick] [--threads N]`` from the
repository root, or one at a time, e.g. ``python -m benchmarks.bench_pretrain
--quick``. Every comparison is measured in the same run, interleaved, so ratios are
meaningful on a noisy machine even when absolute times are not.

Modules
-------
bench_gemm
    BLAS throughput for exactly the matrix shapes each algorithm multiplies: the
    *GEMM floor* of an epoch (its GEMM time, nothing else).
bench_pretrain
    Seconds per epoch of one 784 -> 500 RBM layer, ``StackedRBMTransformer`` vs
    ``BernoulliRBM``, and each one's fraction of its GEMM floor.
bench_finetune
    Seconds per epoch of ``DBNClassifier`` fine-tuning vs ``MLPClassifier``
    (784-500-500-10, adam) and ``predict_proba`` throughput.
bench_memory
    Peak resident memory of each fit, measured in a child process, next to the
    input size.
bench_accuracy
    Time-to-accuracy and final accuracy on real handwritten digits.
bench_rbm_pipeline
    RBM features + logistic regression on digits, vs ``BernoulliRBM``.
bench_init_accuracy
    ``DBNClassifier`` test accuracy for each ``init`` vs ``MLPClassifier``.
bench_semisupervised
    Few labels, many unlabelled rows: ``DBNClassifier(unlabeled=-1)`` with each
    ``unlabeled_loss``, and RBM features -> ``LabelSpreading``, vs
    ``MLPClassifier`` and scikit-learn's semi-supervised estimators.
bench_regression
    Cross-validated R² of ``DBNRegressor`` for 4 inits x 3 activations vs
    ``MLPRegressor`` at the same architecture and budget, and both at their
    defaults, on diabetes, friedman1 and a 3-target ``make_regression``.
bench_likelihood
    Test log-likelihood (AIS) of one RBM layer trained by CD-1, CD-10, PCD-1 and
    ``BernoulliRBM``.
bench_onnx
    ``predict_proba`` latency of a 784-500-500-10 ``DBNClassifier`` against the
    same network exported to ONNX and run by onnxruntime: 10000 rows and one
    row (needs the ``onnx`` extra).
bench_array_api
    Seconds per epoch of an RBM PCD-1 epoch and an Adam fine-tuning epoch on
    every array namespace and device available (numpy, torch CPU/CUDA, CuPy),
    beside the same epochs hand-written in plain PyTorch. Needs
    ``SCIPY_ARRAY_API=1`` before scipy is imported: the module sets it, and so
    does ``python -m benchmarks`` when the module is selected (for the whole
    run).
"""

MODULES = (
    "bench_gemm",
    "bench_pretrain",
    "bench_finetune",
    "bench_memory",
    "bench_accuracy",
    "bench_rbm_pipeline",
    "bench_init_accuracy",
    "bench_semisupervised",
    "bench_regression",
    "bench_likelihood",
    "bench_onnx",
    "bench_array_api",
)
