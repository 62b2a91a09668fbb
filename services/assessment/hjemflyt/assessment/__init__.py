"""hjemflyt assessment service."""
