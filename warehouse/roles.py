"""The one list of roles, least to most trusted: each role may do what the roles before it may.

viewer < merchandiser < analyst < admin. Customer-level data needs merchandiser or above in the
app and the API; SQL needs analyst.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["viewer", "merchandiser", "analyst", "admin"]

#: Roles from least to most trusted.
ROLES: tuple[Role, ...] = get_args(Role)


def role_rank(role: str) -> int:
    """Position of `role` in ROLES (viewer = 0); raises ValueError for an unknown role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return ROLES.index(role)  # type: ignore[arg-type]


def role_at_least(have: str, need: str) -> bool:
    """Whether role `have` is `need` or above (an unknown `have` never is)."""
    if have not in ROLES:
        return False
    return role_rank(have) >= role_rank(need)
