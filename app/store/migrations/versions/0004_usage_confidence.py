"""confidence escalation: each local answer's confidence score on its usage row

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('usage', schema=None) as batch_op:
        # NULL: not scored (escalation was off, a cloud answer, too short, or from before
        # 0004). The scores of past answers calibrate the escalation threshold.
        batch_op.add_column(sa.Column('confidence', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.drop_column('confidence')
