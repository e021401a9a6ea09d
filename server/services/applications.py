"""Applications as the applicant sees them."""
from __future__ import annotations

from server.models.applications import Application


def summary_view(application: Application) -> dict:
    return {
        "id": str(application.id),
        "business_type": application.business_type,
        "entity_type": application.entity_type,
        "authority_code": application.authority_id,
        "name": application.name,
        "status": application.status,
        "flow": application.flow,
        "updated_at": application.updated_at.isoformat(),
    }


async def list_for_applicant(applicant_id: int) -> list[dict]:
    rows = await Application.filter(applicant_id=applicant_id).order_by("-updated_at")
    return [summary_view(row) for row in rows]
