"""Who is acting: passed to every service call that needs a role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from db.errors import PermissionDenied
from desktop.services.vocab import ROLE_RANK, ROLES


@dataclass(frozen=True)
class Actor:
    account_id: uuid.UUID
    username: str
    display_name: str
    role: str
    station_code: str

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]

    def require(self, role: str, what: str = "") -> None:
        """Raise PermissionDenied unless this actor holds ``role`` or higher."""
        if not self.at_least(role):
            raise PermissionDenied(
                f"{self.username} ({self.role}) needs {role} for {what}",
                f"“{what or '这项操作'}”需要{ROLES[role]}或以上权限。当前账户是{self.role_label}。",
            )
