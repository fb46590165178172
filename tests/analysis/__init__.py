"""Tests of newsmon/analysis/."""
