"""The structured order (oppdrag): what a provider is sent about a decision, built in one place."""
