"""Run every benchmark and print its figures (``make bench``)."""

from __future__ import annotations

import sys

from bench import clients_search, closing, exports, imports, portfolio


def main() -> int:
    """Run the benchmarks; exit non-zero when a target is missed."""
    results = {
        "clients_search": clients_search.run(),
        "portfolio": portfolio.run(),
        "closing": closing.run(),
        "imports": imports.run(),
        "exports": exports.run(),
    }
    print("\n" + "\n".join(f"{name}: {'OK' if ok else 'MISSED'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
