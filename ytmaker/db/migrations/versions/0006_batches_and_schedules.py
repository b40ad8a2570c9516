"""batches, their rows and identities; schedule runs; a project's own publish time; YouTube's quota ledger

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
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publish_at', sa.String(length=32), nullable=True))
    op.create_table(
        'batches',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('owner_token_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['owner_token_id'], ['api_tokens.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_owner_token_id'), ['owner_token_id'], unique=False)
    op.create_table(
        'batch_rows',
        sa.Column('batch_id', sa.String(length=36), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('project_id', sa.String(length=36), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('batch_id', 'line'),
    )
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_rows_project_id'), ['project_id'], unique=False)
    op.create_table(
        'row_projects',
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('project_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('identity'),
    )
    op.create_table(
        'schedule_runs',
        sa.Column('schedule', sa.String(length=64), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('file', sa.Text(), nullable=True),
        sa.Column('file_key', sa.String(length=80), nullable=True),
        sa.Column('project_id', sa.String(length=36), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('schedule', 'due_at'),
        sa.UniqueConstraint('schedule', 'file_key', name='uq_schedule_file'),
    )
    op.create_table(
        'quota_use',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('bucket', sa.String(length=16), nullable=False),
        sa.Column('used', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'bucket'),
    )


def downgrade() -> None:
    op.drop_table('quota_use')
    op.drop_table('schedule_runs')
    op.drop_table('row_projects')
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_rows_project_id'))
    op.drop_table('batch_rows')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_owner_token_id'))
    op.drop_table('batches')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('publish_at')
