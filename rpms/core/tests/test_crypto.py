"""Personal data encrypted at rest (issue #16 item 3; GB/T 39786-2021): SM4-GCM under RPMS_DATA_KEY, SM3 blind
indexes, the production key check, the audit trail's masking."""
import base64

import pytest
from django.core.checks import run_checks

from rpms.core import crypto
from rpms.core.audit import audit_log
from rpms.core.masking import mask_personal_fields

KEY_A = "a" * 16 + "-first-test-data-key-0123456789"
KEY_B = "b" * 16 + "-second-test-data-key-987654321"


def test_a_value_round_trips_and_is_never_stored_the_same_way_twice(settings):
    settings.RPMS_DATA_KEY = KEY_A
    first, second = crypto.encrypt("11010819900307123X"), crypto.encrypt("11010819900307123X")
    assert first != second  # a random nonce each time: equal values do not show as equal
    for stored in (first, second):
        prefix, key_id, payload = stored.split("$")
        assert prefix == "sm4g1" and key_id == crypto.current_key().key_id and len(key_id) == 8
        assert "11010819900307123X" not in stored
        assert crypto.decrypt(stored) == "11010819900307123X"
    assert crypto.decrypt(crypto.encrypt("居民张女士")) == "居民张女士"
    assert crypto.encrypt("") == "" and crypto.encrypt(None) is None
    assert len(first) <= crypto.stored_length(18)
    assert len(crypto.encrypt("联" * 50)) <= crypto.stored_length(50)


def test_the_sm4_key_is_a_128_bit_key_derived_per_secret():
    a, b = crypto.DataKey.from_secret(KEY_A), crypto.DataKey.from_secret(KEY_B)
    assert len(a.sm4_key) == 16 and len(a.index_key) == 32
    assert a.key_id != b.key_id and a.sm4_key != b.sm4_key and a.index_key != b.index_key
    with pytest.raises(crypto.DataKeyError, match="至少应有 32 个字符"):
        crypto.DataKey.from_secret("short")


def test_a_value_under_another_key_is_refused(settings):
    settings.RPMS_DATA_KEY = KEY_A
    stored = crypto.encrypt("13800138000")
    settings.RPMS_DATA_KEY = KEY_B
    with pytest.raises(crypto.DataKeyError, match="未配置"):
        crypto.decrypt(stored)
    # a forged header naming the current key does not help: the tag does not authenticate
    forged = stored.replace(crypto.key_id_of(stored), crypto.current_key().key_id)
    with pytest.raises(crypto.DataKeyError, match="密文校验失败"):
        crypto.decrypt(forged)
    settings.RPMS_DATA_KEY_PREVIOUS = KEY_A  # during a rotation the previous key still opens it
    assert crypto.decrypt(stored) == "13800138000"


def test_a_changed_byte_is_refused(settings):
    settings.RPMS_DATA_KEY = KEY_A
    stored = crypto.encrypt("13800138000")
    header, payload = stored.rsplit("$", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    for position in (0, 14, len(raw) - 1):  # nonce, ciphertext, tag
        changed = bytearray(raw)
        changed[position] ^= 0x01
        with pytest.raises(crypto.DataKeyError, match="密文校验失败"):
            crypto.decrypt(header + "$" + base64.urlsafe_b64encode(bytes(changed)).decode())
    for broken in ("13800138000", "sm4g1$abc", stored[:-30]):
        with pytest.raises(crypto.DataKeyError):
            crypto.decrypt(broken)


def test_the_blind_index_is_keyed_normalised_and_kind_specific(settings):
    settings.RPMS_DATA_KEY = KEY_A
    index = crypto.blind_index("11010819900307123X", kind="id_number")
    assert len(index) == 64 and int(index, 16) >= 0
    assert crypto.blind_index(" 11010819900307123x ", kind="id_number") == index
    assert crypto.blind_index("１１０１０８１９９００３０７１２３Ｘ", kind="id_number") == index  # full-width digits
    assert crypto.blind_index("11010819900307123X", kind="mobile") != index
    assert crypto.blind_index("", kind="id_number") == ""
    settings.RPMS_DATA_KEY = KEY_B
    assert crypto.blind_index("11010819900307123X", kind="id_number") != index  # no key, no index


def test_production_refuses_a_missing_short_or_development_data_key(settings):
    settings.RPMS_REQUIRE_DATA_KEY = True

    def e020():
        return [m for m in run_checks() if m.id == "rpms.E020"]

    for key, said in (("", "未设置数据加密密钥"), (settings.RPMS_DEVELOPMENT_DATA_KEY, "开发环境的公开密钥"),
                      ("x" * 20, "少于 32 个字符")):
        settings.RPMS_DATA_KEY = key
        errors = e020()
        assert len(errors) == 1 and said in errors[0].msg
    settings.RPMS_DATA_KEY = KEY_A
    assert e020() == []
    settings.RPMS_REQUIRE_DATA_KEY = False
    settings.RPMS_DATA_KEY = settings.RPMS_DEVELOPMENT_DATA_KEY
    assert e020() == []  # development and tests run on the development key


def test_personal_fields_are_masked_wherever_they_sit_in_a_snapshot():
    data = {"id_number": "11010819900307123X", "mobile": "13800138000", "name": "张三",
            "nested": [{"contact_phone": "13612345678", "contact_name": "居民张女士", "count": 2}]}
    assert mask_personal_fields(data) == {
        "id_number": "110***********123X", "mobile": "138****8000", "name": "张三",
        "nested": [{"contact_phone": "136****5678", "contact_name": "居****", "count": 2}],
    }


@pytest.mark.django_db(transaction=False)
def test_the_audit_trail_keeps_personal_fields_masked():
    from django.db import transaction

    with transaction.atomic():
        row = audit_log(actor=None, action="test.personal", object_type="test", object_id=1,
                        before={"mobile": "13800138000"}, after={"id_number": "11010819900307123X", "employer": "某院"})
    row.refresh_from_db()
    assert row.before == {"mobile": "138****8000"}
    assert row.after == {"id_number": "110***********123X", "employer": "某院"}
