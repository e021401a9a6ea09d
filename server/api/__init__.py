"""HTTP only: every blueprint of the product, registered in one place."""
from sanic import Sanic

from server.api import accounts, applications, health, names, notifications, signing, staff
from server.api import console, review
from server.api import guides
from server.api import documents
from server.api import appointments, ratings
from server.api import enterprise_accounts
from server.api import annual_reports, archive, console_after_approval, licenses
from server.api import console_stats, statistics


def register_blueprints(app: Sanic) -> None:
    app.blueprint(health.health)
    app.blueprint(accounts.bp)
    app.blueprint(staff.bp)
    app.blueprint(applications.bp)
    app.blueprint(names.bp)
    app.blueprint(signing.bp)
    app.blueprint(documents.bp)
    app.blueprint(notifications.bp)
    if app.ctx.settings.mode == "development" and app.ctx.settings.sms.provider == "dev_sink":
        app.blueprint(notifications.dev_bp)
    app.blueprint(review.bp)
    app.blueprint(review.applicant_bp)
    app.blueprint(console.bp)
    app.blueprint(guides.admin)
    app.blueprint(guides.public)
    app.blueprint(appointments.public)
    app.blueprint(appointments.applicant_bp)
    app.blueprint(appointments.helper_bp)
    app.blueprint(ratings.applicant_bp)
    app.blueprint(ratings.admin_bp)
    app.blueprint(enterprise_accounts.bp)
    app.blueprint(enterprise_accounts.console_bp)
    app.blueprint(archive.bp)
    app.blueprint(licenses.bp)
    app.blueprint(licenses.applicant_bp)
    app.blueprint(annual_reports.bp)
    app.blueprint(console_after_approval.bp)
    app.blueprint(statistics.bp)
    app.blueprint(console_stats.bp)
