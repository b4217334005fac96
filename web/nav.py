"""The header's navigation: only pages that exist, in this order. A new page adds one line here
(``admin=True`` shows it to administrators only)."""

from __future__ import annotations

from dataclasses import dataclass

from web.viewer import Viewer


@dataclass(frozen=True)
class NavItem:
    href: str
    text_key: str  # in web.i18n.TEXTS
    admin: bool = False


NAV: tuple[NavItem, ...] = (
    NavItem("/", "nav_overview"),
    NavItem("/transcribe", "nav_transcribe"),
    NavItem("/speak", "nav_speak"),
    NavItem("/history", "nav_history"),
    NavItem("/keys", "nav_keys"),
    NavItem("/buy", "nav_buy"),
    NavItem("/docs", "nav_api_docs"),  # the API's own reference page
    NavItem("/admin", "nav_admin", admin=True),
)


def items_for(viewer: Viewer) -> list[NavItem]:
    if not viewer.signed_in:
        return []
    is_admin = bool(viewer.user is not None and viewer.user.is_admin)
    return [item for item in NAV if is_admin or not item.admin]
