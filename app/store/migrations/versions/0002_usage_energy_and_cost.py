"""usage ledger: energy and cost of each answer

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Rows written before this revision were neither metered nor priced; say so rather than
# leave a blank a reader could take for zero.
_NOT_METERED = "not measured: answered before Stillroom metered energy"
_NOT_PRICED = json.dumps(dict.fromkeys(
    ("electricity", "hardware", "cloud_equivalent"),
    "unknown: not priced: answered before Stillroom kept costs"))


def upgrade() -> None:
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('energy_joules', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('energy_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('energy_source', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('local_energy_usd_nanos', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('local_hardware_usd_nanos', sa.BigInteger(),
                                      nullable=True))
        batch_op.add_column(sa.Column('cloud_equivalent_usd_nanos', sa.BigInteger(),
                                      nullable=True))
        batch_op.add_column(sa.Column('cloud_equivalent_model', sa.String(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('cloud_actual_usd_nanos', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('price_as_of', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cost_notes', sa.Text(), nullable=True))
    usage = sa.table('usage', sa.column('energy_kind', sa.String()),
                     sa.column('energy_source', sa.Text()), sa.column('cost_notes', sa.Text()))
    op.execute(usage.update().values(energy_kind='not measured', energy_source=_NOT_METERED,
                                     cost_notes=_NOT_PRICED))


def downgrade() -> None:
    with op.batch_alter_table('usage', schema=None) as batch_op:
        for name in ('cost_notes', 'price_as_of', 'cloud_actual_usd_nanos',
                     'cloud_equivalent_model', 'cloud_equivalent_usd_nanos',
                     'local_hardware_usd_nanos', 'local_energy_usd_nanos', 'energy_source',
                     'energy_kind', 'energy_joules'):
            batch_op.drop_column(name)
