"""The staff status page: `create_app(hub, ...)` builds the Flask app (see `station.web.app`).

`create_app` is imported lazily so that `station.status` can use the page's helper modules
(guidance, health) without importing Flask's app module in a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from station.web.app import create_app as create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from station.web.app import create_app

        return create_app
    raise AttributeError(f"module 'station.web' has no attribute {name!r}")
