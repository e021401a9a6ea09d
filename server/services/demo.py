"""seed-demo: a city (崇左市) with its counties, one staff account per role, printed logins."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher

from server.config import Settings
from server.models.accounts import Staff
from server.services.accounts.staff import add_staff
from server.services.authorities import load_divisions

DEMO_AUTHORITY = "451400"
DEMO_ACCOUNTS = [("demo-reviewer", "reviewer", "审核员（演示）"), ("demo-helper", "helper", "帮办员（演示）"),
                 ("demo-admin", "admin", "管理员（演示）")]


async def seed_demo(settings: Settings) -> list[str]:
    await load_divisions(settings.home_province)
    lines = [f"demo authority: {DEMO_AUTHORITY} 崇左市 and its counties"]
    for username, role, display_name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        existing = await Staff.get_or_none(username=username)
        if existing:
            existing.password_hash = PasswordHasher().hash(password)
            existing.failed_logins, existing.locked_until = 0, None
            await existing.save()
        else:
            await add_staff(username, password, role, DEMO_AUTHORITY, display_name)
        lines.append(f"staff login  {username:<14} password {password}  ({role})")
    from server.services.guides.demo import seed_demo_guides

    lines += await seed_demo_guides(settings)
    return lines
