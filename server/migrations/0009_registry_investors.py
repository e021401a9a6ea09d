from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('yct', '0008_foreign_key_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='RegisteredEntity',
            name='investors',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
