"""What the staff print: texts in several languages at once, and the QR codes of slips."""

import segno
from flask import render_template, request
from flask_babel import force_locale
from markupsafe import Markup

from pb_vote.formatting import money
from pb_vote.services import codes
from pb_vote.services.voting import DEFAULT_SLIP_LANGUAGES, SLIP_LANGUAGES
from pb_vote.urls import public_url


def in_languages(languages, template: str, **context) -> list[Markup]:
    """``template`` rendered once in each of ``languages`` (each sees ``language``)."""
    blocks = []
    for language in languages:
        with force_locale(language):
            blocks.append(Markup(render_template(template, language=language, **context)))
    return blocks


PAPER_LABELS = ("proposal", "cost", "mark", "total", "code")


def paper_labels(languages, round_) -> dict[str, list[Markup]]:
    """The paper ballot's column and box labels, each in every one of ``languages``."""
    return {label: in_languages(languages, "coordinate/_paper_label.html", round=round_,
                                label=label) for label in PAPER_LABELS}


def costs_in(language: str, proposals, currency: str) -> dict[int, str]:
    """Each proposal's cost written the way ``language`` writes amounts (the ballot's first
    language, whatever the page's)."""
    with force_locale(language):
        return {p.id: money(p.cost_cents, currency) for p in proposals}


def chosen_languages() -> tuple[list[str], bool]:
    """The languages asked for with ``?lang=``, in the service's order, and whether the
    asking was sound; the default pair (fi, sv) when none was asked for or none is ours."""
    asked = request.args.getlist("lang")
    chosen = [code for code in SLIP_LANGUAGES if code in asked]
    if chosen:
        return chosen, True
    return list(DEFAULT_SLIP_LANGUAGES), not asked and "show" not in request.args


def code_page_link(round_id: int) -> str:
    """The public address of a round's code page (the slips outlive the request)."""
    return public_url("voting.enter_code", round_id=round_id)


def slip_link(round_id: int, code: str) -> str:
    """The address a slip's QR code leads to: the code page, with the code in the fragment,
    which a browser never sends to a server (the page's script fills the field from it)."""
    return f"{code_page_link(round_id)}#code={codes.normalize_code(code)}"


def qr_svg(link: str) -> Markup:
    """``link`` as an inline SVG QR code. The mask is fixed: choosing the best of eight
    would cost four times as long, for each of up to 5000 slips in one answer."""
    return Markup(segno.make_qr(link, error="m", mask=2, boost_error=False)
                  .svg_inline(scale=3, omitsize=True))
