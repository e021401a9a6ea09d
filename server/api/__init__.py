"""HTTP only: every blueprint of the product, registered in one place."""
from sanic import Sanic

from server.api import accounts, applications, health, names, notifications, signing, staff
from server.api import console, review
from server.api import guides
from server.api import documents
from server.api import appointments, helper_cases, ratings
from server.api import enterprise_accounts
from server.api import annual_reports, archive, console_after_approval, licenses
from server.api import console_ratings, console_stats, statistics
from server.api import forms


def register_blueprints(app: Sanic) -> None:
    app.blueprint(health.health)
    app.blueprint(accounts.bp)
    app.blueprint(staff.bp)
    app.blueprint(staff.admin_bp)
    app.blueprint(applications.bp)
    app.blueprint(forms.bp)
    app.blueprint(names.bp)
    app.blueprint(signing.bp)
    if app.ctx.settings.wechat.mount_mock:
        app.blueprint(signing.stand_in_bp)
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
    app.blueprint(helper_cases.applicant_bp)
    app.blueprint(helper_cases.helper_bp)
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
    app.blueprint(console_ratings.bp)
