"""Annual reports (年报): which entity reported for which year (imported from the national system), and the
reminders sent for them."""
from tortoise import fields
from tortoise.models import Model


class AnnualReport(Model):
    id = fields.IntField(pk=True)
    credit_code = fields.CharField(max_length=18)
    year = fields.IntField()
    reported_on = fields.DateField(null=True)
    imported_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "annual_report"
        unique_together = (("credit_code", "year"),)


class AnnualReportReminder(Model):
    """One reminder for one entity on one reminder date: the unique key makes it at most once per date."""

    id = fields.IntField(pk=True)
    credit_code = fields.CharField(max_length=18)
    year = fields.IntField()
    reminder_date = fields.DateField()
    city_code = fields.CharField(max_length=6)
    send_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "annual_report_reminder"
        unique_together = (("credit_code", "year", "reminder_date"),)
