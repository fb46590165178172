"""Prefect flows: the monitoring cycle wired from tasks."""
