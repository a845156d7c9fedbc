"""Today's date in local (Beijing) time for publication dates; one function so tests can move time."""
from django.utils import timezone


def today():
    return timezone.localdate()
