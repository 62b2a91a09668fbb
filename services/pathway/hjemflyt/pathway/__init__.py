"""hjemflyt pathway service."""
