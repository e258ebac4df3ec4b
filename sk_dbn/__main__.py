"""``python -m sk_dbn``: runs the demo (:mod:`sk_dbn._demo.cli`)."""

import sys

from sk_dbn._demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
