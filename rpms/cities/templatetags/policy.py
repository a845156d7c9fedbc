"""`{% load policy %}{% article city "notice" %}` prints the city's own article for a step, so one
template serves every city (rules as data).

`{% article_link city "notice" %}` prints the same reference as links to the articles on the city's
policy page (/info/policies/<city>/#B19-7), each titled with the article's wording in the rule book
("第十九条第（七）项"): every rule a page applies links to its text."""
from django import template
from django.utils.html import format_html, format_html_join

from rpms.cities.selectors import policy_article

register = template.Library()


@register.simple_tag
def article(city, step):
    if not hasattr(city, "policy"):
        return ""
    return policy_article(city, step)


@register.simple_tag
def article_link(city, step):
    """The city's article(s) for a step as links to their anchors; "" for a city without a policy."""
    if city is None or not hasattr(city, "policy"):
        return ""
    reference = policy_article(city, step)
    if not reference:
        return ""
    from django.urls import NoReverseMatch, reverse

    from rpms.publicinfo import policies

    try:
        page = reverse("publicinfo:policy_document", args=[city.code])
    except NoReverseMatch:
        page = ""
    document = policies.rulebook(city)
    parts = []
    for code in policies.split_refs(reference):
        anchor = policies.anchor_for(code)
        if not anchor or not page:
            parts.append((format_html("{}", code),))
            continue
        described = document.describe(code) if document is not None else ""
        title = f"{document.title} {described}" if described else f"{getattr(city, 'rulebook_title', '') or city.name} {code}"
        parts.append((format_html('<a class="article-link" href="{}#{}" title="{}">{}</a>', page, anchor, title.strip(), code),))
    return format_html_join("、", "{}", parts)


@register.filter
def specialty_label(code, policy):
    """`{{ member.specialty|specialty_label:policy }}`: a specialty code by the policy's label, never the code."""
    if not code:
        return "—"
    label = policy.specialty_label(code) if policy is not None else code
    if label != code or not code.isascii():
        return label  # a label, or a specialty written out in Chinese (a roster's free text)
    return "本市政策中已无此专业领域"
