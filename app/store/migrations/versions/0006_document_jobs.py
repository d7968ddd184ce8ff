"""documents: the batch job ledger (a job per folder run, a row per document by SHA-256)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'document_jobs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('folder', sa.Text(), nullable=False),
        sa.Column('template', sa.String(length=64), nullable=False),
        sa.Column('model_id', sa.String(length=200), nullable=False),
        sa.Column('route', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('control', sa.String(length=16), nullable=True),
        sa.Column('runner_pid', sa.Integer(), nullable=True),
        sa.Column('options', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'document_job_items',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('job_id', sa.String(length=32), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reader_status', sa.String(length=16), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('conversation_id', sa.String(length=32), nullable=True),
        sa.Column('route_target', sa.String(length=16), nullable=True),
        sa.Column('prompt_tokens', sa.Integer(), nullable=True),
        sa.Column('completion_tokens', sa.Integer(), nullable=True),
        sa.Column('prompt_tokens_reused', sa.Integer(), nullable=True),
        sa.Column('ttft_s', sa.Float(), nullable=True),
        sa.Column('decode_tps', sa.Float(), nullable=True),
        sa.Column('total_s', sa.Float(), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['document_jobs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('job_id', 'sha256', name='uq_job_item_sha256'),
    )
    op.create_index('ix_job_items_status', 'document_job_items', ['job_id', 'status', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_job_items_status', table_name='document_job_items')
    op.drop_table('document_job_items')
    op.drop_table('document_jobs')
