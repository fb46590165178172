"""Stage 2: pages to articles. Extract text and dates, link near-duplicates, replay the archive."""
