"""the local judge's verdict on the audit row (issue 16)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: no judge ran for that decision (every row from before 0008).
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('judge', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_column('judge')
