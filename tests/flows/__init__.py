"""Tests of the Prefect flows in flows/."""
