"""Stage 1: feeds in. Poll feeds (conditional GET), fetch pages under limits, discover feeds."""
