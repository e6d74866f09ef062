"""The declarative base every model inherits, and the metadata Alembic compares against."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Explicit constraint names: Alembic can then drop and rename them, and they read well in errors.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def load_models() -> MetaData:
    """Import every resource's models (`service/<resource>/models.py`), so Alembic sees all the
    tables without a list to keep: adding or removing a resource folder is enough."""
    service = Path(__file__).resolve().parents[1]
    for package in pkgutil.iter_modules([str(service)]):
        if package.ispkg and (service / package.name / "models.py").is_file():
            importlib.import_module(f"service.{package.name}.models")
    return Base.metadata
