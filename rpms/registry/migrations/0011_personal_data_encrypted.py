# Issue #16 item 3: personal data encrypted at rest with SM4, looked up through SM3 blind indexes (GB/T 39786-2021).

from django.db import migrations, models

import rpms.core.fields
from rpms.core.crypto_migrations import EncryptColumns


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0010_pool_order_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='planner',
            name='planner_one_record_per_person_per_city',
        ),
        migrations.AddField(
            model_name='planner',
            name='id_number_index',
            field=rpms.core.fields.BlindIndexField(source='id_number', verbose_name='身份证号检索索引'),
        ),
        migrations.AlterField(
            model_name='planner',
            name='id_number',
            field=rpms.core.fields.EncryptedCharField(blank=True, max_length=18, verbose_name='身份证号'),
        ),
        migrations.AlterField(
            model_name='planner',
            name='mobile',
            field=rpms.core.fields.EncryptedCharField(blank=True, max_length=11, verbose_name='手机号'),
        ),
        migrations.AlterField(
            model_name='rosterimportbatch',
            name='rows',
            field=rpms.core.fields.EncryptedJSONField(default=list, verbose_name='待导入的行'),
        ),
        # Existing rows: encrypted under the current key, indexes filled, in primary-key batches (reversible).
        EncryptColumns("planner", columns={"id_number": "id_number", "mobile": "mobile"},
                       indexes={"id_number_index": "id_number"}),
        EncryptColumns("rosterimportbatch", columns={"rows": None}),
        migrations.AddConstraint(
            model_name='planner',
            constraint=models.UniqueConstraint(condition=models.Q(models.Q(('id_number_index', ''), _negated=True), models.Q(('pool_status', 'removed'), _negated=True)), fields=('city', 'id_number_index'), name='planner_one_record_per_person_per_city', violation_error_message='该身份证号已在本市责任规划师库中登记，不能重复登记。'),
        ),
    ]
