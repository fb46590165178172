"""Tests of newsmon/analyst/."""
