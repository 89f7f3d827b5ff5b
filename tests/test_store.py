from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bot.cli import main
from bot.store import Delivery, Store, Subscription
from bot.store.engine import normalise_url
from bot.store.migrate import current, head, upgrade
from tests.ledger import add_subscriptions

NOW = dt.datetime(2023, 11, 17, 6, 0, tzinfo=dt.UTC)


def test_migrations_create_the_schema_and_are_idempotent(store):
    assert current(store.engine) == head()
    upgrade(store.engine)  # again: nothing to do
    tables = set(inspect(store.engine).get_table_names())
    assert {"subscriptions", "deliveries", "console_posts", "alembic_version"} <= tables
    assert {"rate_budgets", "instances"} <= tables
    indexes = {index["name"] for index in inspect(store.engine).get_indexes("subscriptions")}
    assert "ix_subscriptions_due" in indexes


def test_aware_utc_datetimes_round_trip(store):
    paris = dt.datetime(2023, 11, 17, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    [sid] = add_subscriptions(store, now=NOW, next_run_at=paris)
    with store.session() as session:
        row = session.get(Subscription, sid)
    assert row.next_run_at == paris and row.next_run_at.tzinfo is dt.UTC
    assert row.next_run_at.hour == 7


def test_one_subscription_per_channel_and_language(store):
    add_subscriptions(store, now=NOW)
    with pytest.raises(IntegrityError):
        add_subscriptions(store, now=NOW)


def test_outbox_is_unique_per_subscription_day_and_language(store):
    [sid] = add_subscriptions(store, now=NOW)
    row = {
        "subscription_id": sid,
        "platform": "discord",
        "digest_date": dt.date(2023, 11, 17),
        "lang": "fr",
        "scheduled_for": NOW,
        "status": "pending",
        "late": False,
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }
    with store.session() as session, session.begin():
        session.execute(Delivery.__table__.insert(), [row, dict(row, lang="en")])
    with pytest.raises(IntegrityError), store.session() as session, session.begin():
        session.execute(Delivery.__table__.insert(), [row])
    with store.session() as session:
        assert len(session.scalars(select(Delivery)).all()) == 2


def test_deleting_a_subscription_deletes_its_deliveries(store):
    [sid] = add_subscriptions(store, now=NOW)
    with store.session() as session, session.begin():
        session.add(
            Delivery(
                subscription_id=sid,
                platform="discord",
                digest_date=NOW.date(),
                lang="fr",
                scheduled_for=NOW,
                status="sent",
                late=False,
                attempts=1,
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )
    with store.session() as session, session.begin():
        session.delete(session.get(Subscription, sid))
    with store.session() as session:
        assert session.scalars(select(Delivery)).all() == []


def test_db_upgrade_command(db_url, capsys):
    assert main(["db", "upgrade", "--database-url", db_url]) == 0
    assert f"revision {head()}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", db_url]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_url_normalisation():
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x") == "sqlite:///x"


def test_sqlite_uses_wal(tmp_path):
    (tmp_path / "nested").mkdir()  # an explicit URL's directory must exist (test_outages.py)
    store = Store.open(f"sqlite:///{tmp_path / 'nested' / 'db.sqlite3'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_migration_0002_keeps_deliveries_as_scheduled_and_adds_manual_sends(db_url):
    from sqlalchemy import text

    from bot.store import make_engine

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO subscriptions (id, story_slug, platform, workspace_id, channel_id,"
                    " lang, post_time, timezone, mode, active, managed_by, admin_lang,"
                    " created_at, updated_at) VALUES (1, 's', 'console', '', 'c', 'fr', '08:00',"
                    " 'UTC', 'live', TRUE, 'chat', 'en', :now, :now)"
                ),
                {"now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO deliveries (subscription_id, platform, digest_date, lang,"
                    " scheduled_for, status, late, attempts, next_attempt_at, created_at)"
                    " VALUES (1, 'console', :day, 'fr', :now, 'sent', FALSE, 1, :now, :now)"
                ),
                {"now": NOW, "day": NOW.date()},
            )
        upgrade(engine)
        assert current(engine) == head()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT kind FROM deliveries")).scalars().all() == [
                "scheduled"
            ]
        indexes = {index["name"] for index in inspect(engine).get_indexes("deliveries")}
        assert {"uq_deliveries_scheduled", "uq_deliveries_manual"} <= indexes
        upgrade_row = {
            "subscription_id": 1, "platform": "console", "digest_date": NOW.date(),
            "story_date": NOW.date(), "lang": "fr", "scheduled_for": NOW, "status": "pending",
            "late": False, "attempts": 0, "next_attempt_at": NOW, "created_at": NOW,
        }  # fmt: skip
        with engine.begin() as connection:  # a manual send of the same day: no collision
            connection.execute(Delivery.__table__.insert(), [dict(upgrade_row, kind="manual")])
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(Delivery.__table__.insert(), [dict(upgrade_row, kind="manual")])
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(Delivery.__table__.insert(), [upgrade_row])  # scheduled twice
    finally:
        engine.dispose()


def test_the_migrations_form_one_line() -> None:
    """Migrations written on parallel branches must be renumbered into one chain when merged."""
    assert head()  # raises when two revisions share a parent
