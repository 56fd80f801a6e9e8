"""[store] the SQLite set history."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreSettings:
    """History settings; filled in by the store code."""

    retention_days: int = 365  # a year of history lets staff compare seasons; about 10 MB
