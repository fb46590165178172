"""Stage 6: what analysts read: the views and the HTML report."""
