"""Stage 5: events to alerts. Render, route, queue in the outbox, deliver, digest."""
