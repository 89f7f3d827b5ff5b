"""One parser for date and time options (`digests.options`), used whole and identically by
Discord, Slack and the admin service. Regressions: Discord cut date options to 10 characters
(``2023-11-17garbage`` was 2023-11-17, ten thousand ``1`` were 1111-11-11)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.parsing import parse_digest
from digests.options import OptionError, parse_date_option, parse_time_option
from tests.fakes.discord_server import ANNOUNCES_CHANNEL_ID, OWNER_USER_ID
from tests.test_discord_commands import _Running, text_of

# -------------------------------------------------------------------------- the core parser


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2023-11-17", dt.date(2023, 11, 17)), (" 2023-1-7 ", dt.date(2023, 1, 7))],
)
def test_dates_are_parsed_whole(text: str, expected: dt.date) -> None:
    assert parse_date_option(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2023-11-17garbage", "2023-11-17 x", "1" * 10_000, "2023-02-30", "20231117", "2023-W46-5",
     "", "2023-11-17\n2023", "x2023-11-17", "２０２３-11-17"],
)  # fmt: skip
def test_anything_else_is_an_error_showing_the_form(text: str) -> None:
    with pytest.raises(OptionError, match=r"^Invalid date '.*': use YYYY-MM-DD") as error:
        parse_date_option(text)
    assert len(str(error.value)) < 120  # the value is cut, not echoed whole
    with pytest.raises(OptionError, match=r"^Date invalide '.*' : utilisez AAAA-MM-JJ"):
        parse_date_option(text, "fr")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:00", "08:00"), ("8:05", "08:05"), ("8", "08:00"), ("8h", "08:00"), ("7h30", "07:30"),
     ("7.30", "07:30"), ("7pm", "19:00"), ("7:15 am", "07:15"), ("12am", "00:00"), ("23:59", "23:59")],
)  # fmt: skip
def test_times(text: str, expected: str) -> None:
    assert parse_time_option(text) == expected


@pytest.mark.parametrize(
    "text", ["08:00x", "24:00", "8:60", "13pm", "8:5", "", "08:00:00", "1" * 10_000]
)
def test_bad_times(text: str) -> None:
    with pytest.raises(OptionError, match=r"^Invalid time '.*': use HH:MM"):
        parse_time_option(text)


@given(st.text())
def test_core_parsers_answer_any_string(text: str) -> None:
    for parse in (parse_date_option, parse_time_option):
        try:
            parse(text)
        except OptionError as error:
            assert "\n" not in str(error)


# -------------------------------------------------------------------------- Slack, same verdict


# What a platform can send: any Unicode text but lone surrogates, which are not valid UTF-8 (a
# payload holding one could not be encoded by Discord or Slack, nor by our fakes).
platform_text = st.characters(exclude_categories=("Cs",))
date_like = st.one_of(
    st.text(alphabet=platform_text, max_size=30),
    st.builds(
        lambda day, junk: day.isoformat() + junk,
        st.dates(),
        st.text(alphabet=st.characters(exclude_categories=("Zs", "Cc", "Cs")), max_size=6),
    ),
)


@given(date_like)
def test_slack_accepts_a_date_exactly_when_the_core_does(word: str) -> None:
    if re.fullmatch(r"[0-9]{4}-\S*", word) is None:
        return  # not one date-shaped word of free text ("2023-...")
    args = parse_digest(f"preview {word}")
    try:
        expected = parse_date_option(word)
    except OptionError:
        assert args.date is None and args.bad_date == word
    else:
        assert args.date == expected and args.bad_date is None


# -------------------------------------------------------------------------- Discord, real client


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Running]:
    bot = _Running(tmp_path_factory.mktemp("options"))
    yield bot
    bot.close()


def ask(running: _Running, command: str, options: dict[str, Any]) -> str:
    env = running.env
    assert env is not None

    async def go() -> str:
        interaction = await env.fake.dispatch_command(
            command, options, locale="en-US", user_id=OWNER_USER_ID
        )
        callback = await interaction.wait_callback()
        if callback.type == 5:
            return text_of(await interaction.wait_followup(timeout=10))
        await asyncio.sleep(0)
        return text_of(callback.data)

    return str(running.run(go()))


@pytest.mark.parametrize("value", ["2023-11-17garbage", "1" * 10_000])
@pytest.mark.parametrize(
    ("command", "option"),
    [("timeline", "date"), ("digest preview", "date"), ("digest-admin send-now", "date")],
)
def test_discord_date_options_are_parsed_whole(
    running: _Running, command: str, option: str, value: str
) -> None:
    options: dict[str, Any] = {option: value}
    if command.startswith("digest-admin"):
        options["channel"] = ANNOUNCES_CHANNEL_ID
    text = ask(running, command, options)
    assert "Invalid date '" in text and "use YYYY-MM-DD" in text, text
    assert "No subscription" not in text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=date_like.filter(lambda s: s.strip() != ""))
def test_discord_refuses_a_date_exactly_when_the_core_does(running: _Running, value: str) -> None:
    text = ask(running, "timeline", {"date": value})
    try:
        parse_date_option(value)
    except OptionError as error:
        assert str(error) in text.replace("\\", "") or "Invalid date" in text, text
    else:
        assert "Invalid date" not in text, text


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    value=st.one_of(
        st.text(alphabet=platform_text, min_size=1, max_size=12),
        st.sampled_from(["7h30", "8pm", "08:00x"]),
    )
)
def test_discord_subscribe_time_uses_the_core_parser(running: _Running, value: str) -> None:
    text = ask(
        running,
        "digest-admin subscribe",
        {"channel": ANNOUNCES_CHANNEL_ID, "language": "en", "time": value, "timezone": "UTC"},
    )
    try:
        expected = parse_time_option(value)
    except OptionError:
        assert "Invalid time" in text, text
    else:
        assert f"{expected} UTC" in text, text
