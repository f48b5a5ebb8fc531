"""HTTP API and chat page."""
