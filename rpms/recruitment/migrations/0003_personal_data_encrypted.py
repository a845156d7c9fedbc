# Issue #16 item 3: personal data encrypted at rest with SM4, looked up through SM3 blind indexes (GB/T 39786-2021).

from django.db import migrations, models

import rpms.core.fields
from rpms.core.crypto_migrations import EncryptColumns


class Migration(migrations.Migration):

    dependencies = [
        ('recruitment', '0002_notices_stay_true'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='application',
            name='application_one_per_id_number',
        ),
        migrations.AddField(
            model_name='application',
            name='id_number_index',
            field=rpms.core.fields.BlindIndexField(source='id_number', verbose_name='身份证号检索索引'),
        ),
        migrations.AlterField(
            model_name='application',
            name='id_number',
            field=rpms.core.fields.EncryptedCharField(max_length=18, verbose_name='身份证号'),
        ),
        migrations.AlterField(
            model_name='application',
            name='mobile',
            field=rpms.core.fields.EncryptedCharField(max_length=11, verbose_name='手机号'),
        ),
        migrations.AlterField(
            model_name='objection',
            name='contact_name',
            field=rpms.core.fields.EncryptedCharField(max_length=50, verbose_name='联系人'),
        ),
        migrations.AlterField(
            model_name='objection',
            name='contact_phone',
            field=rpms.core.fields.EncryptedCharField(max_length=20, verbose_name='联系电话'),
        ),
        # Existing rows: encrypted under the current key, indexes filled, in primary-key batches (reversible).
        EncryptColumns("application", columns={"id_number": "id_number", "mobile": "mobile"},
                       indexes={"id_number_index": "id_number"}),
        EncryptColumns("objection", columns={"contact_name": "contact_name", "contact_phone": "contact_phone"}),
        migrations.AddConstraint(
            model_name='application',
            constraint=models.UniqueConstraint(fields=('call', 'id_number_index'), name='application_one_per_id_number'),
        ),
    ]
