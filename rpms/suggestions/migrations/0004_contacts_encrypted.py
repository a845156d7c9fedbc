# Issue #16 item 3: personal data encrypted at rest with SM4, looked up through SM3 blind indexes (GB/T 39786-2021).

from django.db import migrations

import rpms.core.fields
from rpms.core.crypto_migrations import EncryptColumns


class Migration(migrations.Migration):

    dependencies = [
        ('suggestions', '0003_staff_list_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='suggestion',
            name='contact_name',
            field=rpms.core.fields.EncryptedCharField(blank=True, max_length=50, verbose_name='联系人'),
        ),
        migrations.AlterField(
            model_name='suggestion',
            name='contact_phone',
            field=rpms.core.fields.EncryptedCharField(blank=True, max_length=11, verbose_name='联系电话'),
        ),
        # Existing rows: encrypted under the current key, in primary-key batches (reversible).
        EncryptColumns("suggestion", columns={"contact_name": "contact_name", "contact_phone": "contact_phone"}),
    ]
