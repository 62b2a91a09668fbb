"""Benchmarks for hjemflyt. They print figures and never assert timings.

Every benchmark measures a raw baseline (plain asyncpg, plain nats-py) in the same run, so
the service figures can be read against what the machine itself manages. Run with
`make bench` (`uv run python -m bench.skeleton`); see bench/README.md.
"""
