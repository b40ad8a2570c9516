"""Chaos suite: real worker processes on a private Redis and PostgreSQL, killed and starved on purpose."""
