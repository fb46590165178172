"""Tests of newsmon/cli/."""
