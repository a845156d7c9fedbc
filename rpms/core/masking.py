"""Masking personal information for anything a member of the public can see."""


def mask_id_number(value: str) -> str:
    value = value or ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str) -> str:
    value = value or ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "****" + value[-4:]
