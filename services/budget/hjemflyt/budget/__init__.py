"""hjemflyt budget service."""
