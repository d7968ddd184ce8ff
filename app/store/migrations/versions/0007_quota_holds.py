"""office server on several boxes: tokens held for answers in flight, and the requests of
the last minute, counted in the database every box shares

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'quota_holds',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('tokens', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_quota_holds_user', 'quota_holds', ['user'])
    op.create_table(
        'server_requests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_server_requests_user_at', 'server_requests', ['user', 'at'])


def downgrade() -> None:
    op.drop_index('ix_server_requests_user_at', table_name='server_requests')
    op.drop_table('server_requests')
    op.drop_index('ix_quota_holds_user', table_name='quota_holds')
    op.drop_table('quota_holds')
