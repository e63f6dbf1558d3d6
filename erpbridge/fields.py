"""Model fields shared by the apps."""

from django.db import models

from erpbridge import crypto


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; Python code only ever sees the plaintext.

    Tokens differ on every save, so the column cannot be searched: any lookup other than
    `isnull` is refused instead of silently matching nothing.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return crypto.decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def value_to_string(self, obj):
        # Serialisation (dumpdata, fixtures) never writes the plaintext out.
        value = self.value_from_object(obj)
        return "" if value is None else crypto.mask(value)
