"""Anka's Streamlit dashboard: widgets and layout only; all work happens in ``core``."""
