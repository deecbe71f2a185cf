"""Staff sign-in through the city's own OpenID Connect provider: a login session may be
opened with ``method`` ``staff_oidc`` (it fits the column of 0021). The downgrade ends those
sessions (their people sign in again with a password) and keeps every other row.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

METHODS_BEFORE = "'link', 'password', 'identified'"


def _method_check(methods: str) -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_login_sessions_sign_in_method"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_login_sessions_sign_in_method"),
                                         f"method IN ({methods})")


def upgrade():
    _method_check(f"{METHODS_BEFORE}, 'staff_oidc'")


def downgrade():
    op.execute("DELETE FROM login_sessions WHERE method = 'staff_oidc'")
    _method_check(METHODS_BEFORE)
