"""sync

Trusted peers and their watermarks, the bundle history, conflicts (which
travel) and cross-station duplicate flags (which do not); residents get
``merged_into_id`` for the tombstone a duplicate merge leaves.

Revision ID: 0006_sync
Revises: 0005_report_indexes
Create Date: 2026-12-01 19:12:02.165131
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_sync'
down_revision = '0005_report_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sync_bundles',
    sa.Column('bundle_id', sa.Uuid(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('peer', sa.String(length=12), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('by', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=260), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('since_seq', sa.BigInteger(), nullable=False),
    sa.Column('upto_seq', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('bundle_id', name=op.f('pk_sync_bundles'))
    )
    with op.batch_alter_table('sync_bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_bundles_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_bundles_peer'), ['peer'], unique=False)

    op.create_table('sync_conflicts',
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('row_id', sa.Uuid(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('value_a', sa.Text(), nullable=False),
    sa.Column('clock_a', sa.BigInteger(), nullable=False),
    sa.Column('station_a', sa.String(length=12), nullable=False),
    sa.Column('value_b', sa.Text(), nullable=False),
    sa.Column('clock_b', sa.BigInteger(), nullable=False),
    sa.Column('station_b', sa.String(length=12), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('found_by', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=32), nullable=True),
    sa.Column('field_clocks', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('hlc', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts_row_id'), ['row_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_conflicts_seq'), ['seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_conflicts_status'), ['status'], unique=False)

    op.create_table('sync_duplicates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('resident_a', sa.Uuid(), nullable=False),
    sa.Column('resident_b', sa.Uuid(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('bundle_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('survivor_id', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_duplicates'))
    )
    with op.batch_alter_table('sync_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_duplicates_resident_a'), ['resident_a'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_duplicates_resident_b'), ['resident_b'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_duplicates_status'), ['status'], unique=False)

    op.create_table('sync_peers',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('sign_pub', sa.String(length=64), nullable=False),
    sa.Column('box_pub', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=48), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('trusted_at', sa.DateTime(), nullable=False),
    sa.Column('trusted_by', sa.String(length=32), nullable=False),
    sa.Column('sent_seq', sa.BigInteger(), nullable=False),
    sa.Column('sent_upto', sa.BigInteger(), nullable=False),
    sa.Column('acked_seq', sa.BigInteger(), nullable=False),
    sa.Column('acked_hlc', sa.BigInteger(), nullable=False),
    sa.Column('recv_seq', sa.BigInteger(), nullable=False),
    sa.Column('recv_hlc', sa.BigInteger(), nullable=False),
    sa.Column('last_export_at', sa.DateTime(), nullable=True),
    sa.Column('last_import_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sync_peers'))
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_residents_merged_into_id'), ['merged_into_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residents_merged_into_id'))
        batch_op.drop_column('merged_into_id')

    op.drop_table('sync_peers')
    with op.batch_alter_table('sync_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_duplicates_status'))
        batch_op.drop_index(batch_op.f('ix_sync_duplicates_resident_b'))
        batch_op.drop_index(batch_op.f('ix_sync_duplicates_resident_a'))

    op.drop_table('sync_duplicates')
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_status'))
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_seq'))
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_row_id'))

    op.drop_table('sync_conflicts')
    with op.batch_alter_table('sync_bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_bundles_peer'))
        batch_op.drop_index(batch_op.f('ix_sync_bundles_at'))

    op.drop_table('sync_bundles')
