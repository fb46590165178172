"""Tests of newsmon/sources/."""
