"""Contracts and platform code shared by the hjemflyt services."""
