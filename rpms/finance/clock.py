"""Today's date for every dated rule of finance (cycles ended, overdue). It follows the appointments'
clock, so that a test moving that clock over a term moves finance with it."""


def today():
    from rpms.appointments import clock

    return clock.today()
