"""Contact, privacy notice and accessibility statement. Their text is in the templates
(translatable); who runs the service and how to reach them come from configuration."""

from datetime import date

from flask import Blueprint, current_app, render_template, request

bp = Blueprint("about", __name__)


def service_provider() -> dict:
    """Who runs the service and how to reach them, from configuration (None: not set)."""
    config = current_app.config
    email = config.get("CITY_CONTACT_EMAIL") or None
    return {
        "city": config.get("CITY_NAME") or None,
        "email": email,
        "phone": config.get("CITY_CONTACT_PHONE") or None,
        "postal_address": config.get("CITY_POSTAL_ADDRESS") or None,
        "data_protection_email": config.get("DATA_PROTECTION_EMAIL") or email,
        "address": config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/"),
    }


def _statement_date() -> date | None:
    try:
        return date.fromisoformat(str(current_app.config.get("ACCESSIBILITY_STATEMENT_DATE")))
    except ValueError:
        return None  # not configured as YYYY-MM-DD: the statement leaves the date out


@bp.get("/contact")
def contact():
    """Who runs the service and how to reach them."""
    return render_template("about/contact.html", provider=service_provider())


@bp.get("/privacy")
def privacy():
    """The privacy notice: what personal data the service holds, why, for how long."""
    config = current_app.config
    return render_template(
        "about/privacy.html", provider=service_provider(),
        link_minutes=config["SIGN_IN_LINK_MAX_AGE_SECONDS"] // 60,
        session_days=config["LOGIN_SESSION_DAYS"],
        min_ballots=config["RESULTS_MIN_BALLOTS"], min_cell=config["STATISTICS_MIN_CELL"],
    )


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement the Act on the Provision of Digital Services asks for."""
    return render_template("about/accessibility.html", provider=service_provider(),
                           reviewed_on=_statement_date())
