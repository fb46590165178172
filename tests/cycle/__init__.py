"""Tests of newsmon/cycle/."""
