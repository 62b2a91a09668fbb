"""Bulk import of persons with their active decisions from a case system (fagsystem)."""
