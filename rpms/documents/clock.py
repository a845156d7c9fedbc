"""Today's date for the dated rules of documents (a contract's term running out, an ending taking
effect). One function, so that tests can move time together with the appointments' clock."""
from django.utils import timezone


def today():
    return timezone.localdate()
