"""pb_vote: participatory budgeting for a city's regional partnership tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then PB_VOTE_* variables,
    then ``test_config``. Nothing here connects to the database. (Flask is imported here, not
    at the top, so that the pure tally package and its ``pb-vote`` command load without it.)"""
    from flask import Flask

    from pb_vote import config, tasks, web
    from pb_vote.blueprints.languages import select_locale
    from pb_vote.extensions import babel, cache, csrf, db, login_manager, migrate

    instance_path = os.environ.get("PB_VOTE_INSTANCE_PATH")  # default: ./instance
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PB_VOTE")
    if test_config:
        app.config.from_mapping(test_config)
    if app.config["ENV_NAME"] == "development":
        for key, value in config.DEVELOPMENT_OVERRIDES.items():
            if app.config.get(key) == config.DEFAULTS.get(key):
                app.config[key] = value
    config.check_secrets(app.config, debug=app.debug)
    config.check_ballot_keys(app.config)
    config.check_second_factor(app.config)
    config.check_public_address(app.config)
    config.check_city_language(app.config)
    config.check_identity_providers(app.config)
    config.check_staff_identity_provider(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config.database_uri(
        app.config["DATABASE_URL"], app.instance_path
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    login_manager.init_app(app)
    cache.init_app(app)
    web.init_app(app)
    tasks.init_app(app)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app
