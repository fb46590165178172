"""Tests of newsmon/evaluation/."""
