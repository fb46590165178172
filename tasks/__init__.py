"""Prefect tasks: the I/O and heavy stages of a cycle, with retries, caching and logging."""
