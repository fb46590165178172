"""Stage 3: articles to actors, events and relevance (spaCy + the dated watchlist)."""
