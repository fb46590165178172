"""Measuring the product: dev-set and extraction evaluation against gold labels."""
