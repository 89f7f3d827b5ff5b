"""Documents -> Block Kit: Slack's limits, splitting in order, mrkdwn escaping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MESSAGE_CHAR_BUDGET,
    SlackMessage,
    block_text,
    escape_mrkdwn,
    iter_mrkdwn,
    render_document,
    render_reply,
    span_mrkdwn,
    split_text,
    text_message,
)
from digests.compose import compose_digest, compose_faq, compose_story_so_far, compose_timeline
from digests.documents import Document, Item, Section, Span
from digests.story import default_story

# Anything that Slack would turn into a mention, a channel link or a special command.
MENTION = re.compile(r"<[!@#]")


def check_limits(messages: list[SlackMessage]) -> None:
    assert messages
    for message in messages:
        assert message.text and len(message.text) <= MAX_FALLBACK_TEXT
        assert 1 <= len(message.blocks) <= MAX_BLOCKS
        total = 0
        for block in message.blocks:
            text = block_text(block)
            total += len(text)
            if block["type"] == "section":
                assert 0 < len(text) <= MAX_SECTION_TEXT
            if block["type"] == "header":
                assert 0 < len(text) <= MAX_HEADER_TEXT
                assert block["text"]["type"] == "plain_text"
        assert total <= MESSAGE_CHAR_BUDGET + MAX_SECTION_TEXT
    for text in iter_mrkdwn(messages):
        assert not MENTION.search(text), text


def test_escape_and_spans() -> None:
    assert escape_mrkdwn("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert span_mrkdwn(Span(" bold ", "strong")) == " *bold* "
    assert span_mrkdwn(Span("x", "em")) == "_x_"
    assert (
        span_mrkdwn(Span("lien", url="https://example.org/a?b=1"))
        == "<https://example.org/a?b=1|lien>"
    )
    # A URL that could break out of the link (or *be* a mention) is not linked.
    assert span_mrkdwn(Span("x", url="!channel")) == "x"
    assert span_mrkdwn(Span("x", url="https://e.org/|<!here>")) == "x"
    assert span_mrkdwn(Span("<!channel>", url="javascript:alert(1)")) == "&lt;!channel&gt;"


def test_default_story_documents_fit_and_keep_order() -> None:
    story = default_story()
    documents = [
        compose_digest(story, dt.date(2023, 11, 17), "fr"),
        compose_story_so_far(story, story.last_day, "fr"),
        compose_story_so_far(story, story.last_day, "en"),
        compose_timeline(story, "en"),
        compose_faq(story, "fr"),
    ]
    for document in documents:
        assert document is not None
        messages = render_document(document)
        check_limits(messages)
        assert messages[0].blocks[0]["type"] == "header"
        assert messages[0].blocks[0]["text"]["text"] == document.title
    # Story-written <https://...> become links; nothing else is unescaped.
    footer = render_document(documents[0])[0].blocks[-1]
    assert footer["type"] == "context"


def long_document(n_items: int, item_len: int) -> Document:
    items = tuple(Item((Span(f"[{i:04d}] " + "mot " * (item_len // 4)),)) for i in range(n_items))
    return Document(
        kind="digest",
        lang="fr",
        title="Titre",
        subtitle="Jour 1",
        sections=(Section("Aujourd'hui", items),),
        footer="Source",
    )


def test_long_digest_is_split_in_order() -> None:
    document = long_document(400, 200)
    messages = render_document(document)
    check_limits(messages)
    assert len(messages) > 3
    shown = "\n".join(block_text(b) for m in messages for b in m.blocks)
    positions = [shown.index(f"[{i:04d}]") for i in range(400)]
    assert positions == sorted(positions)
    for number, message in enumerate(messages[1:], start=2):
        assert block_text(message.blocks[0]) == f"Titre · {number}/{len(messages)}"


def test_item_longer_than_a_section_is_cut_at_spaces() -> None:
    document = long_document(1, 9000)
    (message,) = render_document(document)
    sections = [block_text(b) for b in message.blocks if b["type"] == "section"][1:]
    assert len(sections) == 4 and all(len(s) <= MAX_SECTION_TEXT for s in sections)
    assert all(not s.startswith(" ") for s in sections)


def test_reply_is_capped_at_five_messages() -> None:
    messages = render_reply(long_document(1000, 300))
    assert len(messages) == 5
    check_limits(messages)
    assert block_text(messages[-1].blocks[-1]) == "…"


def test_split_text_never_cuts_entities() -> None:
    text = "&amp;" * 1000
    pieces = split_text(text, 3000)
    assert "".join(pieces) == text
    assert all(p.startswith("&amp;") and p.endswith(";") for p in pieces)


def test_text_message_escapes() -> None:
    message = text_message("<!channel> hi <@U1> & <https://ok.example/x>")
    assert (
        message.blocks[0]["text"]["text"]
        == "&lt;!channel&gt; hi &lt;@U1&gt; &amp; <https://ok.example/x>"
    )


hostile = st.lists(
    st.sampled_from(
        [
            *list("ab <>&!@#|*_~`\n:/.éà🙂"),
            "<!channel>",
            "<!here>",
            "<@U123>",
            "<#C1>",
            "<https://x.y/>",
            "&amp;",
            "mot " * 200,
        ]
    ),
    max_size=40,
).map("".join)
spans = st.builds(
    Span,
    text=hostile,
    emphasis=st.sampled_from(["plain", "strong", "em", "quote"]),
    url=st.one_of(
        st.none(),
        st.sampled_from(
            ["https://ok.example/p", "!channel", "<@U1>", "https://e.org/|x", "mailto:a@b.c"]
        ),
    ),
)
items = st.builds(
    Item,
    spans=st.lists(spans, min_size=1, max_size=4).map(tuple),
    label=st.one_of(st.none(), hostile),
)
sections = st.builds(
    Section,
    heading=hostile,
    items=st.lists(items, max_size=12).map(tuple),
    kind=st.sampled_from(["list", "paragraph", "quote"]),
)
documents = st.builds(
    Document,
    kind=st.just("digest"),
    lang=st.sampled_from(["fr", "en"]),
    title=hostile,
    subtitle=st.one_of(st.none(), hostile),
    sections=st.lists(sections, max_size=5).map(tuple),
    footer=st.one_of(st.none(), hostile),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_fits_and_injects_nothing(document: Document) -> None:
    check_limits(render_document(document))
    check_limits(render_reply(document))


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=5000))
def test_sizes(n_items: int, item_len: int) -> None:
    check_limits(render_document(long_document(n_items, item_len)))


def test_max_blocks_must_leave_room() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        render_document(long_document(1, 1), max_blocks=3)


def test_blank_section_heading_makes_no_empty_block() -> None:
    # Found by hypothesis: a whitespace heading with no items gave a section with empty text,
    # which Slack rejects (invalid_blocks).
    document = Document(kind="digest", lang="fr", title="", sections=(Section(" ", ()),))
    check_limits(render_document(document))
