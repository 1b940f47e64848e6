"""Jinja2 pages: every page extends ``base.html`` (navigation by role, the CSRF token for the
page's scripts, the site settings the maps and forms use)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from patrol.store.accounts import SignedIn

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

# (path, label, roles that see it; admin sees all)
NAV = (
    ("/fly", "Fly 飞行", ("operator",)),
    ("/plans", "Plans 航线", ("operator",)),
    ("/grids", "Grids 网格", ("operator",)),
    ("/messages", "Messages 喊话", ("operator",)),
    ("/review", "Review 审核", ("reviewer",)),
    ("/patrols", "Reports 报告", ("operator", "reviewer")),
    ("/staff", "My tasks 任务", ("staff",)),
    ("/admin", "Admin 管理", ()),
)


def nav_for(role: str) -> list[tuple[str, str]]:
    return [(path, label) for path, label, roles in NAV if role == "admin" or role in roles]


def render(
    request: Request, name: str, signed_in: SignedIn | None, status: int = 200, **context: object
) -> HTMLResponse:
    site = request.app.state.console.site.current  # the maps' tiles, plan defaults, home
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "user": signed_in.user if signed_in else None,
            "csrf": signed_in.csrf if signed_in else "",
            "nav": nav_for(signed_in.user.role) if signed_in else [],
            "site": site.public() if signed_in else {},
            **context,
        },
        status_code=status,
    )
