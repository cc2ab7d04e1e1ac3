"""Use cases as plain functions: parse input, check the role, work in one unit of work."""
