"""Model fields for personal data encrypted at rest (rpms.core.crypto; GB/T 39786-2021).

`EncryptedCharField` holds text SM4-encrypted in the database and plain in Python: it encrypts when a value is
written (get_prep_value) and decrypts when a row is read (from_db_value), so forms, validation (max_length
counts the characters typed), masking, exports and documents see the plain text. Its column is wide enough
for the ciphertext. It cannot be searched by content (the ciphertext differs each time): the only lookups are
`isnull` and equality with "" (blank); anything else raises FieldError, so a query that forgot the blind index
fails loudly instead of finding nothing.

`BlindIndexField(source="id_number", kind="id_number")` keeps the keyed SM3 index of another field of the same
model, for lookups (`filter(id_number_index=blind_index(number, kind="id_number"))`), duplicate checks and
unique constraints. It is computed from the source field when the row is saved (also by bulk_create);
models that carry one inherit `BlindIndexedModel`, which also refreshes it before `validate_constraints`
(full_clean) and adds it to `save(update_fields=...)` when its source is saved.
"""
from __future__ import annotations

import json

from django.core import exceptions
from django.db import models
from django.db.models.lookups import Exact, IsNull

from . import crypto

__all__ = ["BlindIndexField", "BlindIndexedModel", "EncryptedCharField", "EncryptedJSONField", "blind_index"]

blind_index = crypto.blind_index


class EncryptedBlankExact(Exact):
    """`field=""`: blank is stored as blank, so equality with "" is the one comparison that means something."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise exceptions.FieldError(
                f"加密存储的字段“{self.lhs.target.name}”不能按内容查询：请使用其检索索引（blind index）。"
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.CharField):
    description = "SM4 加密存储的文本"

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EncryptedBlankExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def db_type_parameters(self, connection):
        params = super().db_type_parameters(connection)
        params["max_length"] = crypto.stored_length(self.max_length)
        return params

    def from_db_value(self, value, expression, connection):
        return crypto.decrypt(value)

    def to_python(self, value):
        if crypto.is_encrypted(value):  # a serialized row (dumpdata/loaddata) carries the ciphertext
            try:
                return crypto.decrypt(value)
            except crypto.DataKeyError:
                pass  # typed text that merely looks like a ciphertext stays as typed
        return super().to_python(value)

    def get_prep_value(self, value):
        return crypto.encrypt(super().get_prep_value(value))

    def value_to_string(self, obj):
        return crypto.encrypt(self.value_from_object(obj))


class BlindIndexField(models.CharField):
    description = "SM3 keyed index of an encrypted field"

    def __init__(self, *args, source: str = "", kind: str = "", **kwargs):
        self.source = source
        self.kind = kind or source
        kwargs.setdefault("max_length", crypto.INDEX_HEX)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.kind != self.source:
            kwargs["kind"] = self.kind
        for key, default in (("max_length", crypto.INDEX_HEX), ("blank", True), ("default", ""),
                             ("editable", False), ("db_index", True)):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def compute(self, instance) -> str:
        return crypto.blind_index(getattr(instance, self.source), kind=self.kind)

    def pre_save(self, model_instance, add):
        if self.source in model_instance.get_deferred_fields():  # not loaded, so not changed: the index stands
            return getattr(model_instance, self.attname)
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


def _index_fields(model) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


class BlindIndexedModel:
    """Mixin for models with BlindIndexField columns: the index follows its source in full_clean and in
    save(update_fields=...)."""

    def refresh_blind_indexes(self) -> None:
        deferred = self.get_deferred_fields()
        for field in _index_fields(type(self)):
            if field.source not in deferred:
                setattr(self, field.attname, field.compute(self))

    def validate_constraints(self, exclude=None):
        self.refresh_blind_indexes()
        return super().validate_constraints(exclude=exclude)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            update_fields = set(update_fields)
            update_fields |= {f.name for f in _index_fields(type(self)) if f.source in update_fields}
            kwargs["update_fields"] = update_fields
        return super().save(*args, **kwargs)


class EncryptedJSONField(models.TextField):
    """A JSON value (lists and dicts of rows waiting to be imported) kept SM4-encrypted as one text: nothing in it
    can be searched; it is read and written whole."""

    description = "SM4 加密存储的 JSON"

    def get_lookup(self, lookup_name):
        return IsNull if lookup_name == "isnull" else None

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(crypto.decrypt(value))

    def to_python(self, value):
        if isinstance(value, str):
            if crypto.is_encrypted(value):
                return json.loads(crypto.decrypt(value))
            return json.loads(value)
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return None
