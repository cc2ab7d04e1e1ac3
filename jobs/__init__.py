"""Anka's scheduler: ``python -m jobs`` runs it; ``python -m jobs run|backfill`` run once."""
