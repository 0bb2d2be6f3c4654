"""The one ordered list of user roles, read by the SQL sandbox, app sign-in and the HTTP API.

Each role may do what the roles before it may, plus more: viewer < merchandiser < analyst < admin.
"""

from __future__ import annotations

from typing import Literal, get_args

from warehouse.db import WarehouseError

Role = Literal["viewer", "merchandiser", "analyst", "admin"]

#: Roles from least to most trusted.
ROLES: tuple[Role, ...] = get_args(Role)


def role_rank(role: str) -> int:
    """Position of `role` in ROLES (viewer = 0); an unknown role raises WarehouseError."""
    try:
        return ROLES.index(role)
    except ValueError:
        raise WarehouseError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}") from None


def parse_role(text: str) -> Role:
    """`text` as a Role; an unknown role raises WarehouseError naming the choices."""
    return ROLES[role_rank(text)]


def role_at_least(have: str, need: str) -> bool:
    """Whether role `have` is `need` or above it; unknown roles raise WarehouseError."""
    return role_rank(have) >= role_rank(need)
