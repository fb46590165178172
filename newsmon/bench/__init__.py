"""The benchmark harness and its loopback site."""
