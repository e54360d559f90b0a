"""Package `__init__`s that load a submodule only when one of its names is first asked for.

``from ml_connector.cin7 import Cin7Client`` stays the public spelling, but importing
``ml_connector.cin7.models`` (as the pure planner does) must not load httpx through the package's
``__init__``; likewise ``ml_connector.store.models`` must not load SQLAlchemy and Alembic. So a
package ``__init__`` names its exports for type checkers under ``TYPE_CHECKING`` and hands the
runtime look-up to :func:`lazy_exports` (PEP 562 module ``__getattr__``)::

    if TYPE_CHECKING:
        from ml_connector.cin7.client import Cin7Client

    __getattr__ = lazy_exports(__name__, {"client": ("Cin7Client",)})

``tests/unit/test_light_core.py`` checks that every name in a package's ``__all__`` resolves.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` serving each name from its submodule.

    ``modules`` maps a submodule (relative to ``package``) to the names it exports. A name is
    imported on first use and then cached in the package, so later look-ups cost nothing.
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
