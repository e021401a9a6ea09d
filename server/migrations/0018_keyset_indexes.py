from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Indexes in the order the lists are read, so each page starts where the last ended (keyset pagination).

    Written as SQL: the queue's index is partial (only the waiting states) and mixes sort directions, which the
    model options cannot say. The same statements run on PostgreSQL and SQLite.
    """

    dependencies = [('yct', '0016_statistics')]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE INDEX application_queue_order ON application (resubmission DESC, due_at, id) "
            "WHERE status IN ('cloud_review', 'submitted', 'accepted')",
            reverse_sql="DROP INDEX application_queue_order",
        ),
        ops.RunSQL(
            "CREATE INDEX outbox_message_listing ON outbox_message (created_at, id)",
            reverse_sql="DROP INDEX outbox_message_listing",
        ),
    ]
