"""Tests of newsmon/alerts/."""
