"""Custom integrations (the package Home Assistant loads them from)."""
