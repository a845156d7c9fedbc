"""Today's date in local time for every dated rule of appointments (terms, expiry warnings, leave
dates). One function, so that tests can move time forward over a term."""
from django.utils import timezone


def today():
    return timezone.localdate()
