"""The committed event catalogue (docs/asyncapi.json) is the one the registry generates."""

import json
from pathlib import Path

from hjemflyt.shared.contracts.asyncapi import asyncapi_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_committed_catalogue_matches_the_registry():
    # If this fails: run `make asyncapi` and commit docs/asyncapi.json.
    assert json.loads(DOC.read_text()) == asyncapi_document()
