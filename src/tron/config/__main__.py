"""`python -m tron.config PATH [-m MASTER] [-n NS]`: validate config files offline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tron.config.load import format_problems, validate_paths


def main(argv: Sequence[str] | None = None) -> int:
    """Print `OK` and return 0, or print every problem and return 1."""
    parser = argparse.ArgumentParser(prog="python -m tron.config", description=__doc__)
    parser.add_argument("path", help="a config directory, a MASTER file or a namespace file")
    parser.add_argument("-m", "--master-config", help="MASTER file to check a namespace with")
    parser.add_argument("-n", "--namespace", help="namespace of PATH (default: its file name)")
    args = parser.parse_args(argv)
    _, problems = validate_paths(args.path, master=args.master_config, namespace=args.namespace)
    if problems:
        sys.stdout.write(format_problems(problems) + "\n")
        return 1
    sys.stdout.write("OK\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
