"""hjemflyt notifications service."""
