"""training: programmes, courses, enrollments, training plans, the projections of orgs and cadres

Revision ID: 0001
Revises:
Create Date: 2026-11-29 08:19:59.391487
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "assignment_projection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cadre_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("term_ends_on", sa.Date(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("ended_sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_projection")),
    )
    op.create_index(
        "ix_assignment_projection_cadre", "assignment_projection", ["cadre_id", "starts_on"], unique=False
    )
    op.create_index(
        "ix_assignment_projection_post", "assignment_projection", ["post_id", "starts_on"], unique=False
    )
    op.create_table(
        "cadre_projection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column(
            "sort_key",
            sa.String(length=600).with_variant(sa.String(length=600, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("education", sa.String(length=16), nullable=True),
        sa.Column("declared_theory_level", sa.String(length=16), nullable=True),
        sa.Column("declared_rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cadre_projection")),
    )
    op.create_index(op.f("ix_cadre_projection_org_id"), "cadre_projection", ["org_id"], unique=False)
    op.create_index("ix_cadre_projection_sort_key_id", "cadre_projection", ["sort_key", "id"], unique=False)
    op.create_table(
        "plan_projection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cadre_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.String(length=9), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_projection")),
    )
    op.create_index("ix_plan_projection_cadre", "plan_projection", ["cadre_id", "added_on"], unique=False)
    op.create_index("ix_plan_projection_post", "plan_projection", ["post_id", "added_on"], unique=False)
    op.create_table(
        "post_projection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("required_theory_level", sa.String(length=16), nullable=True),
        sa.Column("required_rank", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_projection")),
    )
    op.create_index(
        "ix_post_projection_org_category", "post_projection", ["org_id", "category"], unique=False
    )
    op.create_table(
        "programmes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("theory_level", sa.String(length=16), nullable=True),
        sa.Column("theory_rank", sa.Integer(), nullable=True),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_programmes_code")),
    )
    op.create_index(op.f("ix_programmes_kind"), "programmes", ["kind"], unique=False)
    op.create_table(
        "qualification_versions",
        sa.Column("cadre_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cadre_id", name=op.f("pk_qualification_versions")),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("provider", sa.String(length=300), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("target_group", sa.String(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "enrolled >= 0 AND enrolled <= capacity",
            name=op.f("ck_courses_enrolled_within_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_courses_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_courses_code")),
    )
    op.create_index("ix_courses_programme_starts_on", "courses", ["programme_id", "starts_on"], unique=False)
    op.create_index("ix_courses_starts_on", "courses", ["starts_on", "id"], unique=False)
    op.create_table(
        "training_plans",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_training_plans_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("year", "org_id", "programme_id", name=op.f("pk_training_plans")),
    )
    op.create_index("ix_training_plans_org_year", "training_plans", ["org_id", "year"], unique=False)
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("cadre_id", sa.Uuid(), nullable=False),
        sa.Column("sent_by_org_id", sa.Uuid(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("certificate_no", sa.String(length=100), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=1000), nullable=True),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("programme_kind", sa.String(length=32), nullable=False),
        sa.Column("theory_level", sa.String(length=16), nullable=True),
        sa.Column("theory_rank", sa.Integer(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("findings_acknowledged", sa.Boolean(), nullable=False),
        sa.Column("acknowledgement_reason", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["courses.id"], name=op.f("fk_enrollments_course_id_courses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
    )
    op.create_index(
        "ix_enrollments_attained",
        "enrollments",
        ["cadre_id", "completed_on", "theory_rank"],
        unique=False,
        sqlite_where=sa.text("status = 'completed' AND programme_kind = 'political_theory'"),
        postgresql_where=sa.text("status = 'completed' AND programme_kind = 'political_theory'"),
    )
    op.create_index("ix_enrollments_cadre_sent_on", "enrollments", ["cadre_id", "sent_on"], unique=False)
    op.create_index(
        "ix_enrollments_completed_on",
        "enrollments",
        ["completed_on", "theory_level", "cadre_id"],
        unique=False,
        sqlite_where=sa.text("status = 'completed'"),
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.create_index("ix_enrollments_course_status", "enrollments", ["course_id", "status"], unique=False)
    op.create_index("ix_enrollments_org_sent_on", "enrollments", ["sent_by_org_id", "sent_on"], unique=False)
    op.create_index(
        "ix_enrollments_sent_on",
        "enrollments",
        ["sent_on", "programme_kind", "theory_level", "cadre_id"],
        unique=False,
    )
    op.create_index(
        "uq_enrollments_open_or_completed",
        "enrollments",
        ["course_id", "cadre_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('enrolled', 'completed')"),
        postgresql_where=sa.text("status IN ('enrolled', 'completed')"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_consumer"), "dead_letters", ["consumer"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False)
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
    )
    op.create_index(op.f("ix_outbox_published_at_seq"), "outbox", ["published_at", "seq"], unique=False)
    op.create_table(
        "org_projection",
        sa.Column("node", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column(
            "path",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_org_projection")),
        sa.UniqueConstraint("id", name=op.f("uq_org_projection_id")),
    )
    op.create_index(op.f("ix_org_projection_path"), "org_projection", ["path"], unique=False)


def downgrade() -> None:

    op.drop_index(op.f("ix_org_projection_path"), table_name="org_projection")
    op.drop_table("org_projection")
    op.drop_index(op.f("ix_outbox_published_at_seq"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_dead_letters_consumer"), table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index(
        "uq_enrollments_open_or_completed",
        table_name="enrollments",
        sqlite_where=sa.text("status IN ('enrolled', 'completed')"),
        postgresql_where=sa.text("status IN ('enrolled', 'completed')"),
    )
    op.drop_index("ix_enrollments_sent_on", table_name="enrollments")
    op.drop_index("ix_enrollments_org_sent_on", table_name="enrollments")
    op.drop_index("ix_enrollments_course_status", table_name="enrollments")
    op.drop_index(
        "ix_enrollments_completed_on",
        table_name="enrollments",
        sqlite_where=sa.text("status = 'completed'"),
        postgresql_where=sa.text("status = 'completed'"),
    )
    op.drop_index("ix_enrollments_cadre_sent_on", table_name="enrollments")
    op.drop_index(
        "ix_enrollments_attained",
        table_name="enrollments",
        sqlite_where=sa.text("status = 'completed' AND programme_kind = 'political_theory'"),
        postgresql_where=sa.text("status = 'completed' AND programme_kind = 'political_theory'"),
    )
    op.drop_table("enrollments")
    op.drop_index("ix_training_plans_org_year", table_name="training_plans")
    op.drop_table("training_plans")
    op.drop_index("ix_courses_starts_on", table_name="courses")
    op.drop_index("ix_courses_programme_starts_on", table_name="courses")
    op.drop_table("courses")
    op.drop_table("qualification_versions")
    op.drop_index(op.f("ix_programmes_kind"), table_name="programmes")
    op.drop_table("programmes")
    op.drop_index("ix_post_projection_org_category", table_name="post_projection")
    op.drop_table("post_projection")
    op.drop_index("ix_plan_projection_post", table_name="plan_projection")
    op.drop_index("ix_plan_projection_cadre", table_name="plan_projection")
    op.drop_table("plan_projection")
    op.drop_index("ix_cadre_projection_sort_key_id", table_name="cadre_projection")
    op.drop_index(op.f("ix_cadre_projection_org_id"), table_name="cadre_projection")
    op.drop_table("cadre_projection")
    op.drop_index("ix_assignment_projection_post", table_name="assignment_projection")
    op.drop_index("ix_assignment_projection_cadre", table_name="assignment_projection")
    op.drop_table("assignment_projection")
