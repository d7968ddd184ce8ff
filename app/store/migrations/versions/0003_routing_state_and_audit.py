"""routing: sticky sensitive flag and route pin per conversation; the audit log

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        # Existing conversations were never scanned: not sensitive until a message says so.
        batch_op.add_column(sa.Column('sensitive', sa.Boolean(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('route_pin', sa.String(length=64), nullable=True))
    with op.batch_alter_table('usage', schema=None) as batch_op:
        # Per-provider budget caps add up what each provider was paid.
        batch_op.add_column(sa.Column('provider', sa.String(length=64), nullable=True))
    op.create_table(
        'audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('time', sa.String(length=32), nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('conversation_id', sa.String(length=32), nullable=True),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('provider', sa.String(length=64), nullable=True),
        sa.Column('model', sa.String(length=200), nullable=True),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('refused', sa.Boolean(), nullable=False),
        sa.Column('sensitive', sa.Boolean(), nullable=False),
        sa.Column('categories', sa.Text(), nullable=False),
        sa.Column('prompt_tokens', sa.Integer(), nullable=True),
        sa.Column('completion_tokens', sa.Integer(), nullable=True),
        sa.Column('cost_usd', sa.String(length=40), nullable=True),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seq'),
    )


def downgrade() -> None:
    op.drop_table('audit')
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.drop_column('provider')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('route_pin')
        batch_op.drop_column('sensitive')
