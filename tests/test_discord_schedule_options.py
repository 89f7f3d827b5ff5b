"""Days, cadence and format from Discord's /digest-admin subscribe: the REAL discord.py client
against the fake Discord, through the admin service, down to what the channel receives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.store import Subscription
from tests.discord_env import Env, discord_env
from tests.fakes.discord_server import ANNOUNCES_CHANNEL_ID, OWNER_USER_ID
from tests.test_discord_commands import answer, text_of

ADMIN = {"user_id": OWNER_USER_ID}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with discord_env(tmp_path) as env:
        yield env


def rows(env: Env) -> list[Subscription]:
    with env.context.store.session() as session:
        return list(session.scalars(select(Subscription).order_by(Subscription.id)))


async def subscribe(env: Env, locale: str = "fr", **options: Any) -> str:
    base = {"channel": ANNOUNCES_CHANNEL_ID, "time": "08:00", "timezone": "Europe/Paris"}
    interaction = await env.fake.dispatch_command(
        "digest-admin subscribe", {**base, **options}, locale=locale, **ADMIN
    )
    return text_of(await answer(interaction, followup=True))


async def test_days_cadence_and_format_are_options_of_subscribe(env: Env) -> None:
    schema = {c["name"]: c for c in env.fake.commands[None]}["digest-admin"]
    [sub] = [o for o in schema["options"] if o["name"] == "subscribe"]
    options = {o["name"]: o for o in sub["options"]}
    assert {"days", "cadence", "format"} <= set(options)
    assert options["days"]["autocomplete"] is True and not options["days"]["required"]
    assert [c["value"] for c in options["format"]["choices"]] == ["full", "compact"]
    assert options["cadence"]["description_localizations"]["fr"].startswith("quotidien")

    text = await subscribe(env, language="en", days="lun-ven", format="compact")
    assert "du lundi au vendredi, compact" in text
    [row] = rows(env)
    assert (row.days, row.cadence, row.format) == (31, "daily", "compact")

    sent = await env.fake.dispatch_command(
        "digest-admin send-now", {"channel": ANNOUNCES_CHANNEL_ID}, locale="en-US", **ADMIN
    )
    await answer(sent, followup=True)
    [post] = env.fake.messages(ANNOUNCES_CHANNEL_ID)  # compact: no "more" follow-up
    body = text_of(post)
    assert "**OpenAI President Greg Brockman quits** — The day after the firing" in body
    assert "The full digest: /digest preview" in body
    assert "Who's who" not in body and "Previously" not in body

    text = await subscribe(env, language="fr", cadence="weekly", days="samedi")
    assert "récapitulatif de la semaine le samedi" in text
    sent = await env.fake.dispatch_command(
        "digest-admin send-now", {"channel": ANNOUNCES_CHANNEL_ID}, locale="fr", **ADMIN
    )
    await answer(sent, followup=True)
    weekly = env.fake.messages(ANNOUNCES_CHANNEL_ID)[-1]
    body = text_of(weekly)
    assert "La semaine du 12 au 18 novembre 2023" in body
    assert "Jour 1 — vendredi 17 novembre 2023" in body and "Jour 2" in body

    listing = await env.fake.dispatch_command("digest-admin list", {}, locale="en-US", **ADMIN)
    text = text_of(await answer(listing, followup=True))
    assert "Monday to Friday, compact" in text and "weekly roll-up on Saturday" in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"days": "lundy"}, "Jours invalides 'lundy' : donnez des noms de jours"),
        ({"cadence": "weekly", "days": "sam,dim"}, "un seul jour (pas sam. et dim.)"),
    ],
)
async def test_bad_days_are_refused_in_the_members_language(
    env: Env, options: dict[str, str], message: str
) -> None:
    text = await subscribe(env, language="fr", **options)
    assert message in text
    assert rows(env) == []


async def test_days_autocomplete_reads_back_what_was_typed(env: Env) -> None:
    typed = await env.fake.dispatch_autocomplete(
        "digest-admin subscribe", {"days": "lun-ven"}, "days", locale="fr", **ADMIN
    )
    blank = await env.fake.dispatch_autocomplete(
        "digest-admin subscribe", {"days": ""}, "days", locale="en-US", **ADMIN
    )
    choices = (await typed.wait_callback()).choices
    assert choices[0] == {"name": "du lundi au vendredi", "value": "mon-fri"}
    names = [c["name"] for c in (await blank.wait_callback()).choices]
    assert names[:3] == ["every day", "Monday to Friday", "Sat and Sun"] and len(names) == 10


async def test_compact_links_to_the_days_page_when_the_bot_has_a_public_address(env: Env) -> None:
    from bot.delivery import DocumentCache

    env.context.worker.documents = DocumentCache(
        env.context.library, no_news_line=False, public_url="https://depeche.example"
    )
    await subscribe(env, language="en", format="compact")
    sent = await env.fake.dispatch_command(
        "digest-admin send-now", {"channel": ANNOUNCES_CHANNEL_ID}, locale="en-US", **ADMIN
    )
    await answer(sent, followup=True)
    [post] = env.fake.messages(ANNOUNCES_CHANNEL_ID)
    page = "https://depeche.example/en/openai-crisis-2023/2023-11-18/"
    assert f"[Read the full digest]({page})" in text_of(post), text_of(post)
    assert post["embeds"][0]["url"] == page
