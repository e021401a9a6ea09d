"""Statistics records: imported offline counts, the weekly reports, and the rollups the figures are read from
(maintained with each timeline entry by server/services/statistics/rollups.py, rebuilt by `stats rebuild-rollups`)."""
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


class _Counts(Model):
    """The columns stats_day and stats_month share: what is counted, for which authority and types, and `since`."""

    id = fields.BigIntField(pk=True)
    authority_id = fields.CharField(max_length=6)
    business_type = fields.CharField(max_length=24)
    entity_type = fields.CharField(max_length=24)
    since = fields.DateField()
    submitted = fields.IntField(default=0)
    cloud_submitted = fields.IntField(default=0)
    returned = fields.IntField(default=0)
    first_pass = fields.IntField(default=0)
    signing_rounds = fields.IntField(default=0)
    signatures_saved = fields.IntField(default=0)

    class Meta:
        abstract = True


class StatsDay(_Counts):
    """Counts of one Beijing-time day for one authority, business type and entity type, split by `since`: the day of
    the application's previous event of the same kind (1970-01-01 when none), so that "once per application in the
    period" is exact: a period [A, B] sums the rows with day in [A, B] and since < A."""

    day = fields.DateField()

    class Meta:
        table = "stats_day"
        # The table's comment as migration 0024 wrote it (otherwise the docstring's first line, cut mid-sentence).
        table_description = ("Counts of one Beijing-time day for one authority, business type and entity type, split "
                             "by the day of the previous event of the same kind.")
        unique_together = (("day", "since", "authority_id", "business_type", "entity_type"),)


class StatsMonth(_Counts):
    """The same counts per calendar month, keeping only the events whose previous one of their kind came before the
    month (those of a period made of whole months from its first day): a year's figures read a few rows a month."""

    month = fields.DateField()  # its first day

    class Meta:
        table = "stats_month"
        table_description = ("The same counts per calendar month, keeping only the events whose previous one of "
                             "their kind came before the month.")
        unique_together = (("month", "since", "authority_id", "business_type", "entity_type"),)


class StatsDuration(Model):
    """One measured duration (submission to lock, lock to last signature, submission to approval), by the Beijing-time
    day of the event that ends it, in whole working minutes of the working calendar: counted when written, never
    updated."""

    id = fields.BigIntField(pk=True)
    kind = fields.CharField(max_length=24)
    authority_id = fields.CharField(max_length=6)
    business_type = fields.CharField(max_length=24)
    entity_type = fields.CharField(max_length=24)
    day = fields.DateField()
    minutes = fields.IntField()

    class Meta:
        table = "stats_duration"
        table_description = ("One measured duration (submission to lock, lock to last signature, submission to "
                             "approval), by the Beijing-time day of the event that ends it, in whole working minutes.")
        # Durations of a kind over days read this index alone (the scope and filters are in it).
        indexes = (("kind", "day", "authority_id", "business_type", "entity_type", "minutes"),)


class StatsDurationMonth(Model):
    """How many durations of a kind ended in one calendar month at one authority took each number of working minutes:
    a period's whole months read these counts (a year of a city's approvals is about a tenth as many rows as
    durations). Business and entity types are left out: with them the counts hardly group (each combination sees few
    durations of each length), so a period filtered by type reads stats_duration."""

    id = fields.BigIntField(pk=True)
    kind = fields.CharField(max_length=24)
    authority_id = fields.CharField(max_length=6)
    month = fields.DateField()  # its first day
    minutes = fields.IntField()
    count = fields.IntField(default=0)

    class Meta:
        table = "stats_duration_month"
        table_description = ("How many durations of a kind ended in one calendar month at one authority took each "
                             "number of working minutes.")
        unique_together = (("kind", "month", "authority_id", "minutes"),)
