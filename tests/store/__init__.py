"""Tests of newsmon/store/."""
