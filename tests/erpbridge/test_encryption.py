import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from erpbridge import crypto
from tests.testapp.models import StoredSecret

PLAINTEXT = "client-secret-7f3a9c-do-not-leak"


def raw_value(pk: int) -> str:
    table = connection.ops.quote_name(StoredSecret._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_round_trip_through_the_database():
    secret = StoredSecret.objects.create(name="procore", value=PLAINTEXT)

    assert StoredSecret.objects.get(pk=secret.pk).value == PLAINTEXT


@pytest.mark.django_db
def test_database_holds_ciphertext_only():
    secret = StoredSecret.objects.create(name="procore", value=PLAINTEXT)

    stored = raw_value(secret.pk)

    assert PLAINTEXT not in stored
    assert "7f3a9c" not in stored
    assert crypto.decrypt(stored) == PLAINTEXT


@pytest.mark.django_db
def test_update_through_queryset_is_encrypted_too():
    secret = StoredSecret.objects.create(name="qbo", value="old")

    StoredSecret.objects.filter(pk=secret.pk).update(value=PLAINTEXT)

    assert PLAINTEXT not in raw_value(secret.pk)
    assert StoredSecret.objects.get(pk=secret.pk).value == PLAINTEXT


@pytest.mark.django_db
def test_null_and_empty_values():
    empty = StoredSecret.objects.create(name="empty", value="")
    missing = StoredSecret.objects.create(name="missing", value=None)

    assert raw_value(missing.pk) is None
    assert raw_value(empty.pk) != ""
    assert StoredSecret.objects.get(pk=empty.pk).value == ""
    assert StoredSecret.objects.get(pk=missing.pk).value is None
    assert StoredSecret.objects.filter(value__isnull=True).count() == 1


@pytest.mark.django_db
def test_searching_an_encrypted_column_is_refused():
    with pytest.raises(FieldError):
        StoredSecret.objects.filter(value=PLAINTEXT).count()


def test_same_plaintext_encrypts_differently_each_time():
    assert crypto.encrypt(PLAINTEXT) != crypto.encrypt(PLAINTEXT)


def test_rotation_new_key_first_still_reads_old_tokens():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[old]):
        token = crypto.encrypt(PLAINTEXT)

    with override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[new, old]):
        assert crypto.decrypt(token) == PLAINTEXT
        rotated = crypto.rotate(token)

    with override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[new]):
        assert crypto.decrypt(rotated) == PLAINTEXT
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(token)


def test_wrong_key_error_does_not_repeat_the_token():
    token = crypto.encrypt(PLAINTEXT)

    other_key = Fernet.generate_key().decode()
    with (
        override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[other_key]),
        pytest.raises(crypto.DecryptionError) as error,
    ):
        crypto.decrypt(token)

    assert token not in str(error.value)
    assert error.value.__cause__ is None


@pytest.mark.django_db
def test_reencrypt_command_moves_rows_to_the_newest_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[old]):
        secret = StoredSecret.objects.create(name="ns", value=PLAINTEXT)

    with override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[new, old]):
        call_command("reencrypt_secrets", stdout=io.StringIO())

    with override_settings(ERPBRIDGE_ENCRYPTION_KEYS=[new]):
        assert StoredSecret.objects.get(pk=secret.pk).value == PLAINTEXT


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("", ""), ("short", "••••••••"), ("abcdefghijkl1234", "••••••••1234")],
)
def test_mask_shows_at_most_the_last_characters(secret, shown):
    assert crypto.mask(secret) == shown


@pytest.mark.django_db
def test_serialisation_never_writes_the_plaintext():
    from django.core import serializers

    StoredSecret.objects.create(name="procore", value=PLAINTEXT)

    dumped = serializers.serialize("json", StoredSecret.objects.all())

    assert PLAINTEXT not in dumped
