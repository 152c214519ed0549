"""REST controllers under /api/v1: thin, parse → command or query → respond."""
