"""warehouse.roles: the one ordered role list shared by the sandbox, sign-in and the API."""

from __future__ import annotations

import pytest

from services import auth
from warehouse import sandbox
from warehouse.db import WarehouseError
from warehouse.roles import ROLES, parse_role, role_at_least, role_rank


def test_roles_are_ordered_least_to_most_trusted() -> None:
    assert ROLES == ("viewer", "merchandiser", "analyst", "admin")
    assert [role_rank(r) for r in ROLES] == [0, 1, 2, 3]


def test_role_at_least() -> None:
    assert role_at_least("admin", "viewer") and role_at_least("analyst", "analyst")
    assert not role_at_least("merchandiser", "analyst")


def test_unknown_roles_are_refused_with_the_choices() -> None:
    with pytest.raises(WarehouseError, match="unknown role 'owner'; choose one of viewer, "):
        parse_role("owner")
    with pytest.raises(WarehouseError, match="unknown role"):
        role_at_least("owner", "viewer")
    assert parse_role("analyst") == "analyst"


def test_sandbox_and_sign_in_read_this_list() -> None:
    assert sandbox.ROLE_ORDER is ROLES
    assert auth.ROLES is ROLES
    assert set(auth.PAGES.values()) <= set(ROLES)
