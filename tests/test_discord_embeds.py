"""Documents -> Discord embeds: limits, splitting in order, escaping, mentions neutralised."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord.embeds import (
    DESCRIPTION_MAX,
    EMBEDS_MAX,
    MESSAGE_CHARS_MAX,
    TITLE_MAX,
    embed_units,
    escape_markdown,
    message_problems,
    render_document,
    text_messages,
    units,
)
from digests.compose import compose_digest, compose_faq, compose_story_so_far, compose_timeline
from digests.documents import Document, Item, Section, Span
from digests.story import default_story

PINGS = re.compile(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)


def all_text(messages) -> str:
    parts = []
    for message in messages:
        for embed in message:
            data = embed.to_dict()
            parts += [data.get("title") or "", data.get("description") or ""]
            parts.append((data.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


def test_every_default_story_document_fits_and_short_ones_take_one_message() -> None:
    story = default_story()
    documents = [compose_faq(story, "fr"), compose_timeline(story, "en")]
    for lang in ("fr", "en"):
        documents.append(compose_story_so_far(story, story.last_day, lang))
        day = story.first_day
        while day <= story.last_day:
            if (digest := compose_digest(story, day, lang)) is not None:
                documents.append(digest)
                assert len(render_document(digest)) == 1  # a daily digest is one post
            day = day.fromordinal(day.toordinal() + 1)
    for document in documents:
        messages = render_document(document)
        for message in messages:
            assert message_problems(message) == []


def test_a_long_document_is_split_in_order_with_numbered_titles() -> None:
    items = tuple(Item((Span(f"event number {n:03d} " + "word " * 60),)) for n in range(120))
    document = Document(
        kind="digest",
        lang="en",
        title="A long day",
        subtitle="Day 1",
        sections=(Section("Today", items),),
        footer="Sources: somewhere",
    )
    messages = render_document(document)
    assert len(messages) > 3
    titles = [message[0].title for message in messages]
    assert titles[0] == "A long day"
    assert titles[1:] == [f"A long day ({n}/{len(messages)})" for n in range(2, len(messages) + 1)]
    text = all_text(messages)
    positions = [text.index(f"event number {n:03d}") for n in range(120)]
    assert positions == sorted(positions)
    assert messages[-1][-1].footer.text == "Sources: somewhere"
    for message in messages:
        assert message_problems(message) == []
        assert all(embed.description for embed in message)


def test_a_huge_single_item_and_footer_are_cut_not_lost() -> None:
    word = "x" * 30
    body = " ".join(f"{word}{n}" for n in range(900))  # ~28k characters in one item
    document = Document(
        kind="answer",
        lang="fr",
        title="T" * 400,
        sections=(Section("H" * 300, (Item((Span(body),)),)),),
        footer="S" * 3000,
    )
    messages = render_document(document)
    assert units(messages[0][0].title) <= TITLE_MAX and messages[0][0].title.endswith("…")
    text = all_text(messages)
    assert f"{word}0 " in text and f"{word}899" in text  # first and last words both made it
    assert "S" * 1000 in text  # the footer became description lines
    for message in messages:
        assert message_problems(message) == []


def test_markdown_and_mentions_are_escaped_and_links_kept_only_when_safe() -> None:
    spans = (
        Span("**bold?** @everyone <@123> <@&456> @here "),
        Span("link", url="https://example.org/a_b"),
        Span(" and "),
        Span("bad", url="javascript:alert(1)"),
    )
    document = Document(
        kind="answer",
        lang="en",
        title="@everyone look",
        sections=(Section("#x", (Item(spans, label="# label"),)),),
    )
    (message,) = render_document(document)
    text = all_text([message])
    assert not PINGS.search(text)
    assert "\\*\\*bold?\\*\\*" in text
    assert "[link](https://example.org/a_b)" in text
    assert "javascript" not in text
    assert escape_markdown("# title\n> quote\n- list") == "\\# title\n\\> quote\n\\- list"


def test_text_messages_split_at_lines_within_the_content_limit() -> None:
    text = "\n".join(f"line {n} " + "y" * 90 for n in range(100)) + "\n" + "z" * 4500
    parts = text_messages(text + " @everyone")
    assert all(units(part) <= 2000 for part in parts)
    assert "".join(parts).replace("\n", "").count("z") == 4500
    assert "@everyone" not in "".join(parts)


_text = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
        st.sampled_from(
            ["@everyone", "@here", "<@123>", "<@&9>", "**", "\n", "# ", "> ", "😀", "`", "||"]
        ),
        st.just("long " * 150),
    ),
    max_size=12,
).map("".join)
_span = st.builds(
    Span,
    _text,
    st.sampled_from(["plain", "strong", "em", "quote"]),
    st.one_of(st.none(), st.just("https://example.org/x"), _text),
)
_item = st.builds(
    Item, st.lists(_span, min_size=1, max_size=4).map(tuple), st.one_of(st.none(), _text)
)
_section = st.builds(
    Section, _text, st.lists(_item, max_size=12).map(tuple), st.sampled_from(["list", "paragraph"])
)
_document = st.builds(
    Document,
    st.just("digest"),
    st.sampled_from(["fr", "en"]),
    _text,
    st.one_of(st.none(), _text),
    st.lists(_section, max_size=6).map(tuple),
    st.one_of(st.none(), _text),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document)
def test_any_document_renders_within_limits_without_pings(document: Document) -> None:
    messages = render_document(document)
    assert messages
    for message in messages:
        assert 1 <= len(message) <= EMBEDS_MAX
        assert message_problems(message) == []
        assert sum(embed_units(embed) for embed in message) <= MESSAGE_CHARS_MAX
        for embed in message:
            assert units(embed.description or "") <= DESCRIPTION_MAX
    text = all_text(messages)
    assert not re.search(r"@(everyone|here)", text, re.IGNORECASE)
    assert not re.search(r"<@[!&]?\d+>", text)
