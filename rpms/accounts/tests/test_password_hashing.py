"""Issue 17 item 10: a login under 0.5 s without weakening the hash. Production hashes passwords with Argon2id at
Django's defaults (bench/login.py prints the figures); hashes made with PBKDF2 before are still accepted and are
re-hashed with Argon2id at their owner's next login. (The test settings use MD5 for speed; these tests put the
production list back.)"""
import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher, identify_hasher, make_password

from config.settings import base

pytestmark = pytest.mark.django_db
PASSWORD = "Hash-check-2026"


def test_production_hashes_with_argon2id_at_no_less_than_djangos_defaults(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher, defaults = get_hasher(), Argon2PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        defaults.time_cost, defaults.memory_cost, defaults.parallelism)
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$")
    # PBKDF2 stays readable so that no account is locked out by the change.
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS


def test_a_pbkdf2_hash_is_upgraded_to_argon2id_at_the_next_login(settings, client, street_office):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    type(street_office).objects.filter(pk=street_office.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    response = client.post("/accounts/login/", {"username": street_office.username, "password": PASSWORD})
    assert response.status_code == 302
    street_office.refresh_from_db()
    assert identify_hasher(street_office.password).algorithm == "argon2"
    client.post("/accounts/logout/")
    # and the upgraded hash lets the same password in
    assert client.post("/accounts/login/", {"username": street_office.username, "password": PASSWORD}).status_code == 302
