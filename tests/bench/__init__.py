"""Tests of newsmon/bench/."""
