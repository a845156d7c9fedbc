"""rpms.core.fillin: the submitted values are written back into the form that was submitted, and only there."""
from django.http import QueryDict

from rpms.core.fillin import fill_in

PAGE = """<form method="post" action="/a/1/">
<input type="hidden" name="row" value="1"><input name="title" value="old">
<input type="number" name="score" min="0" max="100"><input type="password" name="secret">
<textarea name="text">
old text</textarea>
<select name="kind"><option value="x" selected>X</option><option value="y">Y</option></select>
<select name="tags" multiple><option value="p">P</option><option value="q">Q</option></select>
<input type="checkbox" name="flag" value="1" checked><input type="radio" name="pick" value="a"><input type="radio" name="pick" value="b" />
</form>
<form method="post" action="/a/1/"><input type="hidden" name="row" value="2"><input name="title" value="row two"></form>
<form method="post" action="/b/"><input name="title" value="other form"></form>"""


def _data(text):
    return QueryDict(text)


def test_every_kind_of_field_gets_the_submitted_value():
    filled = fill_in(PAGE, "/a/1/", _data("row=1&title=新标题&score=250&secret=pw&text=新的<文字>&kind=y&tags=p&tags=q"
                                          "&pick=b"))
    first = filled.split("</form>")[0]
    assert 'name="title" value="新标题"' in first and 'value="250"' in first
    assert 'value="pw"' not in first  # passwords are never written back
    assert ">新的&lt;文字&gt;</textarea>" in first
    assert '<option value="x">X</option><option value="y" selected>Y</option>' in first
    assert '<option value="p" selected>P</option><option value="q" selected>Q</option>' in first
    assert '<input type="checkbox" name="flag" value="1">' in first  # not submitted: unticked
    assert '<input type="radio" name="pick" value="a">' in first and 'value="b" checked />' in first


def test_other_rows_and_other_forms_are_left_alone():
    filled = fill_in(PAGE, "/a/1/", _data("row=1&title=新标题"))
    assert 'value="row two"' in filled and 'value="other form"' in filled
    second = fill_in(PAGE, "/a/1/", _data("row=2&title=第二行"))
    assert 'value="第二行"' in second and 'name="title" value="old"' in second


def test_a_page_without_the_form_is_unchanged():
    assert fill_in(PAGE, "/c/", _data("title=x")) == PAGE
