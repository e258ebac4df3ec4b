"""``python -m benchmarks [--quick] [--threads N] [--only NAME,...]``: run them all.

Prints one markdown document: the machine, then every benchmark's tables, each
with the wall-clock time it took.
"""

import importlib
import os
import sys
import time
import warnings

from . import MODULES
from ._common import blas_threads, machine_header, make_parser


def main(argv=None):
    parser = make_parser("Run every sk_dbn benchmark and print markdown tables.")
    parser.add_argument(
        "--only", default=None,
        help=f"comma-separated subset of: {', '.join(MODULES)} (bench_ optional)",
    )
    args = parser.parse_args(argv)
    names = list(MODULES)
    if args.only:
        wanted = [n if n.startswith("bench_") else f"bench_{n}"
                  for n in args.only.split(",")]
        unknown = sorted(set(wanted) - set(MODULES))
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
        names = [n for n in MODULES if n in wanted]
    if "bench_array_api" in names:
        # scipy reads it once, when first imported (by the header, next);
        # bench_array_api needs it for scikit-learn's array API dispatch
        os.environ.setdefault("SCIPY_ARRAY_API", "1")
    print("## sk_dbn benchmarks\n")
    print(machine_header(args.threads, args.quick))
    print()
    start_all = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"{__package__}.{name}")
        start = time.perf_counter()
        with blas_threads(args.threads), warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            text = module.run(quick=args.quick, repeats=args.repeats,
                              threads=args.threads)
        print(text)
        print(f"_{name}: {time.perf_counter() - start:.0f} s_\n", flush=True)
    print(f"_total: {time.perf_counter() - start_all:.0f} s_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
