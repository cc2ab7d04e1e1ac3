"""Queries over one aggregate each, ``select()``-style. Repositories never commit."""
