"""`manage.py rotate_data_key`: every value encrypted at rest moved to the current data key (GB/T 39786-2021).

Set the new key as RPMS_DATA_KEY and the old one as RPMS_DATA_KEY_PREVIOUS (or pass `--previous-key-env NAME`,
the name of an environment variable holding it), run this command, then remove the previous key. Every
SM4-encrypted column of every model (rpms.core.fields) is read with plain SQL in primary-key batches, each batch
written in one transaction: a value under another key is decrypted and encrypted again under the current key,
a value still in clear is encrypted, and every blind index is recomputed with the current key's index key.
Values already under the current key are left as they are, so the command may be run again (after an
interruption, too). A value that no configured key opens stops the run with its table and row. One audit row
per run (core.data_key_rotate, GB/T 39786-2021) records the counts."""
from __future__ import annotations

import os

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from rpms.core import crypto
from rpms.core.audit import audit_log
from rpms.core.crypto_migrations import BATCH, rewrite_table
from rpms.core.fields import BlindIndexField, EncryptedCharField, EncryptedJSONField

ARTICLE = "GB/T 39786-2021"


def encrypted_models():
    """[(model, [encrypted fields], [blind index fields])] of every model with an encrypted column."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, (EncryptedCharField, EncryptedJSONField))]
        if fields:
            indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
            found.append((model, fields, indexes))
    return found


class Command(BaseCommand):
    help = "把所有加密存储的个人信息改用当前数据密钥（RPMS_DATA_KEY）重新加密，并重算检索索引（GB/T 39786-2021）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--previous-key-env", default="",
            help="保存原密钥的环境变量名（默认读取设置 RPMS_DATA_KEY_PREVIOUS）。",
        )
        parser.add_argument("--batch", type=int, default=BATCH, help=f"每批处理的行数（默认 {BATCH}）。")

    def handle(self, *args, previous_key_env="", batch=BATCH, **options):
        try:
            current = crypto.current_key()
            if previous_key_env:
                secret = os.environ.get(previous_key_env, "")
                if not secret.strip():
                    raise CommandError(f"环境变量 {previous_key_env} 未设置，无法读取原密钥。")
                previous = crypto.DataKey.from_secret(secret)
            else:
                previous = crypto.previous_key()
        except crypto.DataKeyError as exc:
            raise CommandError(str(exc)) from exc
        if batch < 1:
            raise CommandError("--batch 应为正整数。")
        keys = {current.key_id: current}
        if previous is not None:
            keys.setdefault(previous.key_id, previous)
        self.stdout.write(f"当前密钥：{current.key_id}；原密钥：{previous.key_id if previous else '未提供'}")

        totals = {"rows": 0, "reencrypted": 0, "encrypted_plain": 0, "unchanged": 0, "indexes": 0}
        per_table = {}
        for model, fields, indexes in encrypted_models():
            counts = self._rotate(model, fields, indexes, current=current, keys=keys, batch=batch)
            per_table[model._meta.label_lower] = counts
            for key in totals:
                totals[key] += counts[key]
            self.stdout.write(
                f"{model._meta.verbose_name}（{model._meta.db_table}）：检查 {counts['rows']} 行，"
                f"重新加密 {counts['reencrypted']} 个值，加密明文 {counts['encrypted_plain']} 个值，"
                f"已是当前密钥 {counts['unchanged']} 个值，重算检索索引 {counts['indexes']} 个。"
            )
        summary = (f"数据密钥轮换：重新加密 {totals['reencrypted']} 个值，加密明文 {totals['encrypted_plain']} 个值，"
                   f"重算检索索引 {totals['indexes']} 个（当前密钥 {current.key_id}）")
        with transaction.atomic():
            audit_log(
                actor=None, action="core.data_key_rotate", object_type="core.data_key", object_id=current.key_id,
                object_repr=f"数据加密密钥 {current.key_id}", article=ARTICLE, summary=summary,
                before={"previous_key_id": previous.key_id if previous else None},
                after={"key_id": current.key_id, "totals": totals, "tables": per_table},
            )
        self.stdout.write(self.style.SUCCESS(
            f"完成：共检查 {totals['rows']} 行，重新加密 {totals['reencrypted']} 个值，加密明文 "
            f"{totals['encrypted_plain']} 个值，已是当前密钥 {totals['unchanged']} 个值，重算检索索引 {totals['indexes']} 个。"
        ))

    def _rotate(self, model, fields, indexes, *, current, keys, batch) -> dict:
        meta = model._meta
        counts = {"rows": 0, "reencrypted": 0, "encrypted_plain": 0, "unchanged": 0, "indexes": 0}
        columns = [f.column for f in fields] + [f.column for f in indexes]
        by_name = {f.name: f for f in fields}

        def change(pk, values):
            counts["rows"] += 1
            new, plain = {}, {}
            for field in fields:
                value = values[field.column]
                if isinstance(value, (bytes, memoryview)):
                    value = bytes(value).decode("utf-8")
                if value is None or value == "":
                    plain[field.name] = value
                    continue
                if not crypto.is_encrypted(value):
                    plain[field.name] = value
                    new[field.column] = crypto.encrypt(value, key=current)
                    counts["encrypted_plain"] += 1
                    continue
                try:
                    plain[field.name] = crypto.decrypt(value, keys=keys)
                except crypto.DataKeyError as exc:
                    raise CommandError(
                        f"{meta.verbose_name}（{meta.db_table}）主键 {pk} 的行的“{field.verbose_name}”无法解密：{exc}"
                    ) from exc
                if crypto.key_id_of(value) == current.key_id:
                    counts["unchanged"] += 1
                else:
                    new[field.column] = crypto.encrypt(plain[field.name], key=current)
                    counts["reencrypted"] += 1
            for index in indexes:
                source = by_name.get(index.source)
                if source is None:
                    continue
                wanted = crypto.blind_index(plain[source.name], kind=index.kind, key=current)
                if values[index.column] != wanted:
                    new[index.column] = wanted
                    counts["indexes"] += 1
            return new or None

        rewrite_table(connection, table=meta.db_table, pk=meta.pk.column, columns=columns, change=change, batch=batch)
        return counts

