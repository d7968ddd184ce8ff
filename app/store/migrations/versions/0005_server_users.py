"""office server: users with hashed keys and limits; the user on usage and audit rows

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'server_users',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('key_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tokens_per_day', sa.Integer(), nullable=True),
        sa.Column('requests_per_minute', sa.Integer(), nullable=True),
        sa.Column('budget_usd_month_nanos', sa.BigInteger(), nullable=True),
        sa.Column('routes', sa.String(length=64), nullable=False),
        sa.Column('models', sa.Text(), nullable=False),
        sa.Column('admin', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
        sa.UniqueConstraint('key_sha256'),
    )
    # NULL: asked from the desktop or the CLI (and every row from before 0005).
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_usage_user', ['user'], unique=False)
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_column('user')
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_user')
        batch_op.drop_column('user')
    op.drop_table('server_users')
