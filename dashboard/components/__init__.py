"""Render helpers that take plain data."""
