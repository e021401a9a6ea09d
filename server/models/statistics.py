"""Statistics records that are not derived from applications: imported offline counts and the weekly reports."""
from tortoise import fields
from tortoise.models import Model


class OfflineFiling(Model):
    """Filings made at a counter (not online) for one authority and calendar month, imported from a CSV (网办率)."""

    id = fields.IntField(pk=True)
    authority = fields.ForeignKeyField("yct.Authority", related_name="offline_filings", on_delete=fields.RESTRICT)
    month = fields.DateField()  # the first day of the month
    filings = fields.IntField()
    imported_at = fields.DatetimeField()

    class Meta:
        table = "offline_filing"
        unique_together = (("authority", "month"),)


class WeeklyReport(Model):
    """The Friday report of one authority (with its subordinates) for one week: an XLSX and a PDF in storage."""

    id = fields.IntField(pk=True)
    authority = fields.ForeignKeyField("yct.Authority", related_name="weekly_reports", on_delete=fields.RESTRICT)
    period_from = fields.DateField()  # first local day covered
    period_to = fields.DateField()  # last local day covered (inclusive)
    generated_at = fields.DatetimeField()
    xlsx_key = fields.CharField(max_length=255)
    pdf_key = fields.CharField(max_length=255)
    # The headline figures as computed when generated, for the console's list.
    headline = fields.JSONField(default=dict)

    class Meta:
        table = "weekly_report"
        unique_together = (("authority", "period_from"),)
