"""The assessment schema: its MetaData, declarative base and platform tables."""

from sqlalchemy.orm import DeclarativeBase

from hjemflyt.shared.platform.db import make_metadata
from hjemflyt.shared.platform.tables import define_platform_tables

SCHEMA = "assessment"
metadata = make_metadata(SCHEMA)
platform_tables = define_platform_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata
