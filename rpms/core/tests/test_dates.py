"""One definition of a service year (rpms.core.dates, issue #14 item 7): 29 February → 1 March in a common
year, as terms do, for the terms, the assessments, the allowances and the reminders alike."""
import datetime as dt

from rpms.core.dates import add_years, service_year, service_year_containing, service_years, term_end

D = dt.date


def test_29_february_moves_to_1_march_in_a_common_year():
    assert add_years(D(2028, 2, 29), 1) == D(2029, 3, 1)
    assert add_years(D(2028, 2, 29), 4) == D(2032, 2, 29)
    assert term_end(D(2028, 2, 29), 1) == D(2029, 2, 28)
    assert service_year(D(2028, 2, 29), 2) == (D(2029, 3, 1), D(2030, 2, 28))


def test_the_year_containing_a_day_is_one_of_the_service_years():
    start, last = D(2028, 2, 29), D(2031, 2, 28)
    years = service_years(start, last)
    assert years == [(D(2028, 2, 29), D(2029, 2, 28)), (D(2029, 3, 1), D(2030, 2, 28)), (D(2030, 3, 1), D(2031, 2, 28))]
    day = start
    while day <= last:
        n, first, end = service_year_containing(start, last, day)
        assert years[n - 1] == (first, end) and first <= day <= end
        day += dt.timedelta(days=1)
    assert service_year_containing(start, last, D(2032, 1, 1)) == (3, D(2030, 3, 1), D(2031, 2, 28))
