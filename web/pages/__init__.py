"""Dashboard pages: one controller per area, each with its live fragments."""
