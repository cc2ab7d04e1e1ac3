"""Market data behind one port (search, quotes, history) with Yahoo, demo and cache adapters."""
