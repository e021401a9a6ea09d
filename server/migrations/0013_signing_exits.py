from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('yct', '0018_keyset_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Application',
            name='auto_submit',
            field=fields.BooleanField(default=True),
        ),
        ops.AlterField(
            model_name='OutboxMessage',
            name='recipient',
            field=fields.CharField(max_length=254),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='kind',
            field=fields.CharField(default='transactional', max_length=16),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='priority',
            field=fields.SmallIntField(default=1),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='reference',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['status', 'priority', 'next_attempt_at']),
        ),
        ops.AlterModelOptions(
            name='FaceVerification',
            options={'table': 'face_verification', 'app': 'yct', 'pk_attr': 'id', 'table_description': "Every face-verification result checked (WeChat's verify_result, or a Tencent FaceID H5 BizToken). A unique"},
        ),
        ops.AddField(
            model_name='FaceVerification',
            name='provider',
            field=fields.CharField(default='wechat', max_length=16),
        ),
        ops.AddField(
            model_name='Party',
            name='contact_name',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Party',
            name='email',
            field=fields.CharField(null=True, max_length=254),
        ),
    ]
