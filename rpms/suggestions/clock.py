"""Today's date and the current time for suggestions (receipt, reply deadlines, overdue). One module,
so that tests can move time, e.g. to a day before the National Day holiday."""
from django.utils import timezone


def now():
    return timezone.now()


def today():
    return timezone.localdate(now())


def localdate(value):
    """The local (Asia/Shanghai) date of a stored timestamp."""
    return timezone.localdate(value)
