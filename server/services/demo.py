"""seed-demo: a city (崇左市) with its counties, one staff account per role, printed logins, sample applications.

Idempotent: run it again and nothing is duplicated. A staff password is printed once, when its account is made, and
kept after that; YCT_DEMO_PASSWORD sets one password for every demo account (and resets them to it).
"""
from __future__ import annotations

import os
import secrets

from argon2 import PasswordHasher

from server.config import Settings
from server.models.accounts import Staff
from server.services.accounts.staff import add_staff
from server.services.authorities import load_divisions

DEMO_AUTHORITY = "451400"
DEMO_ACCOUNTS = [("demo-reviewer", "reviewer", "李明华"), ("demo-helper", "helper", "张伟"),
                 ("demo-admin", "admin", "王芳")]


async def seed_demo(settings: Settings) -> list[str]:
    await load_divisions(settings.home_province)
    lines = [f"demo authority: {DEMO_AUTHORITY} 崇左市 and its counties"]
    chosen = os.environ.get("YCT_DEMO_PASSWORD", "")
    for username, role, display_name in DEMO_ACCOUNTS:
        existing = await Staff.get_or_none(username=username)
        if existing and not chosen:
            lines.append(f"staff login  {username:<14} password unchanged (printed when first made; "
                         f"set YCT_DEMO_PASSWORD to choose one)  ({role})")
            continue
        password = chosen or secrets.token_urlsafe(9)
        if existing:
            existing.password_hash = PasswordHasher().hash(password)
            existing.failed_logins, existing.locked_until = 0, None
            await existing.save()
        else:
            await add_staff(username, password, role, DEMO_AUTHORITY, display_name)
        lines.append(f"staff login  {username:<14} password {password}  ({role})")
    from server.services.demo_cases import seed_demo_cases
    from server.services.guides.demo import seed_demo_guides

    lines += await seed_demo_guides(settings)
    lines += await seed_demo_cases(settings)
    return lines
