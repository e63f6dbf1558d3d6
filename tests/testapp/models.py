from django.db import models

from erpbridge.fields import EncryptedTextField


class StoredSecret(models.Model):
    name = models.CharField(max_length=50)
    value = EncryptedTextField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
