"""Today's date in Beijing time, for every dated window of recruitment (call deadlines, notice
periods). One function, so that tests can move time forward over a notice period."""
from django.utils import timezone


def today():
    return timezone.localdate()
