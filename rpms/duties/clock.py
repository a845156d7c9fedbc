"""Today's date in local time for the dated rules of duties (no record in the future, certificate
periods). One function, so that tests can move it."""
from django.utils import timezone


def today():
    return timezone.localdate()
