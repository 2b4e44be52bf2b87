"""paper

Who issues a station's papers: ``stations.committee`` (居民委员会 /
村民委员会) and ``stations.party_org`` (社区党组织), filled for existing
stations from the centre's name; refusal notices get a number
(``certificate_refusals.year``/``number``); a seal-register line can carry the
number of a paper that is not in the certificate ledger (``seal_log.serial``,
the 志愿服务记录证明). The shipped negative list's wrong citation is corrected
where a station still has it word for word.

Revision ID: 0007_paper
Revises: 0006_sync
Create Date: 2026-12-04 16:00:00
"""

import re

from alembic import op
import sqlalchemy as sa

revision = "0007_paper"
down_revision = "0006_sync"
branch_labels = None
depends_on = None

# desktop.services.accounts.default_issuers, copied: a migration must not
# change when the code does.
_SUFFIXES = (
    "党群服务中心",
    "党群服务站",
    "便民服务中心",
    "综合服务中心",
    "服务中心",
    "服务站",
    "居民委员会",
    "村民委员会",
    "居委会",
    "村委会",
)


def _defaults(name: str, level: str) -> tuple[str | None, str | None]:
    if level not in ("community", "village"):
        return None, None
    core = re.sub(r"[（(].*?[)）]", "", name or "").strip()
    for suffix in _SUFFIXES:
        if core.endswith(suffix) and len(core) > len(suffix):
            core = core[: -len(suffix)]
            break
    if not core.endswith(("社区", "村")):
        core += "村" if level == "village" else "社区"
    if level == "village":
        return core + "村民委员会", f"中共{core}支部委员会"
    return core + "居民委员会", f"中共{core}委员会"


OLD_BASIS = (
    "民政部 司法部《关于开展村级组织承担的证明事项清理工作的通知》所附《不应由基层群众性自治组织出具证明事项清单"
    "（第一批）》（民发〔2020〕20号）"
)
NEW_BASIS = (
    "民政部等六部门《关于改进和规范基层群众性自治组织出具证明工作的指导意见》（民发〔2020〕20号）所附"
    "《不应由基层群众性自治组织出具证明事项清单（第一批）》"
)


def upgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("committee", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("party_org", sa.String(length=64), nullable=True))
    with op.batch_alter_table("certificate_refusals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    with op.batch_alter_table("seal_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serial", sa.String(length=48), nullable=True))
        batch_op.create_index(batch_op.f("ix_seal_log_serial"), ["serial"], unique=False)

    bind = op.get_bind()
    meta = sa.MetaData()
    stations = sa.Table("stations", meta, autoload_with=bind)
    # Every copy of a station's record derives the same names from the same
    # name and level, so stations and hub agree without a sync round.
    for row in bind.execute(sa.select(stations.c.id, stations.c.name, stations.c.level)).all():
        committee, party = _defaults(row.name, row.level)
        if committee:
            bind.execute(
                sa.update(stations).where(stations.c.id == row.id).values(committee=committee, party_org=party)
            )
    types = sa.Table("certificate_types", meta, autoload_with=bind)
    bind.execute(
        sa.update(types).where(types.c.kind == "abolished", types.c.basis == OLD_BASIS).values(basis=NEW_BASIS)
    )


def downgrade() -> None:
    bind = op.get_bind()
    types = sa.Table("certificate_types", sa.MetaData(), autoload_with=bind)
    bind.execute(sa.update(types).where(types.c.basis == NEW_BASIS).values(basis=OLD_BASIS))
    with op.batch_alter_table("seal_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seal_log_serial"))
        batch_op.drop_column("serial")
    with op.batch_alter_table("certificate_refusals", schema=None) as batch_op:
        batch_op.drop_column("number")
        batch_op.drop_column("year")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("party_org")
        batch_op.drop_column("committee")
