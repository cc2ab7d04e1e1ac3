"""Run the benchmarks and print their figures: ``make bench`` runs every one;
``python -m bench NAME [options]`` runs one (``pages`` takes options: ``--help``)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import clients_search, closing, exports, imports, pages, portfolio, statements

BENCHES: dict[str, Callable[[], bool]] = {
    "clients_search": clients_search.run,
    "portfolio": portfolio.run,
    "closing": closing.run,
    "imports": imports.run,
    "exports": exports.run,
    "pages": pages.run,
    "statements": statements.run,
}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmark (every one without a name); exit non-zero when a target is
    missed, 2 for an unknown name."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in BENCHES:
        print(f"unknown benchmark {args[0]!r}; one of: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    if args and args[0] == "pages":
        results = {"pages": pages.main(args[1:])}
    else:
        results = {name: BENCHES[name]() for name in (args[:1] or BENCHES)}
    print("\n" + "\n".join(f"{name}: {'OK' if ok else 'MISSED'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
