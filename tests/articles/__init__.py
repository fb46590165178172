"""Tests of newsmon/articles/."""
