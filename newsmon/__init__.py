"""newsmon: scheduled news monitoring of a watched bilateral relationship."""

__version__ = "0.1.0"
