"""Slash commands: what members ask (/who, /timeline, /faq, /story, /digest preview) and what
admins configure (/digest-admin ...).

Each command translates the interaction into one core call (`digests` for members, the
platform-neutral `AdminService` for admins) and the resulting document into embeds; nothing
else. Replies follow the asker's Discord locale (French for ``fr``, English otherwise) unless a
``language`` option is given; member answers are ephemeral unless ``public`` is set, admin
answers always. Member commands answer at once (the core answers in milliseconds); admin
commands defer first (they touch the database and may post), so Discord's 3 seconds always
hold. Errors are turned into short ephemeral messages by the tree's error handler
(`bot.discord.client`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.admin import (
    Actor,
    AdminError,
    SubscriptionInfo,
    SubscriptionSpec,
    Target,
    describe,
    format_status,
)
from bot.discord.embeds import (
    render_document,
    safe,
    truncate,
)
from bot.discord.interactions import (
    BadOption,
    NotAnAdmin,
    client_of,
    defer,
    lang_of,
    parse_day,
    reply,
    reply_text,
    ui,
    watch,
)
from bot.discord.personal import digest_me
from bot.discord.schedule_options import CADENCES, FORMATS, days_choices
from bot.outbox import clamp_day, story_day, subscription_day
from bot.timezones import suggest_timezones
from bot.timezones import zones as _zones
from digests.compose import compose_digest, compose_faq, compose_story_so_far, compose_timeline
from digests.errors import DepecheError
from digests.i18n import N_
from digests.story import Story
from digests.weekdays import ALL_DAYS
from digests.whois import index_for

if TYPE_CHECKING:
    from bot.discord.client import DepecheClient

_log = logging.getLogger(__name__)

PLATFORM = "discord"
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
AUTOCOMPLETE_BUDGET = 1.5  # seconds an autocomplete may wait for the database

LANGUAGES = [Choice(name=N_("French"), value="fr"), Choice(name=N_("English"), value="en")]
SUBSCRIPTION_LANGUAGES = [*LANGUAGES, Choice(name=N_("Both (one post in each)"), value="both")]
THREADS = [
    Choice(name=N_("none: posts in the channel"), value="none"),
    Choice(name=N_("daily: each digest starts a thread"), value="daily"),
]
MODES = [
    Choice(name=N_("live: the news of each day"), value="live"),
    Choice(name=N_("replay: the story from day 1, one day at a time"), value="replay"),
]
COMMON_ZONES = (
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/London",
    "America/Montreal",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Africa/Abidjan",
    "Africa/Dakar",
    "Africa/Casablanca",
    "Africa/Kinshasa",
    "Indian/Reunion",
    "America/Martinique",
    "Pacific/Noumea",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
    "UTC",
)


class PostableChannel(app_commands.Transformer):
    """A text, announcement or forum channel option, as Discord resolved it in the interaction
    (a forum gets one post per day).

    Unlike ``discord.TextChannel`` this does not need the channel in the bot's cache (another
    shard's process, a channel the bot cannot see yet, a cache not filled after a resume):
    the admin service checks whether the bot may post there."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        if not isinstance(getattr(value, "id", None), int):
            raise app_commands.TransformerError(value, self.type, self)
        return value


ChannelOption = app_commands.Transform[app_commands.AppCommandChannel, PostableChannel]


# --------------------------------------------------------------------------- context


async def story_context(
    interaction: discord.Interaction[Any], slug: str | None
) -> tuple[Story, SubscriptionInfo | None, dt.date]:
    """The story to answer about (the option, else the channel's subscription, else the default),
    the channel's subscription, and the story day that is "today" for this channel (a replay
    subscription is at its own day: no spoilers)."""
    client = client_of(interaction)
    subscription = await client.services.channel_subscription(
        interaction.guild_id, interaction.channel_id
    )
    lang = lang_of(interaction)
    if slug:
        try:
            story = client.services.library.get(slug)
        except DepecheError:
            _ = ui(lang)
            known = ", ".join(client.services.library.slugs())
            raise BadOption(
                _(
                    "Unknown story %(slug)s (known: %(known)s).",
                    slug=truncate(safe(repr(slug)), 60),
                    known=known,
                )
            ) from None
    elif subscription is not None:
        story = client.services.library.get(subscription.story_slug)
    else:
        story = client.services.library.default
    now = client.services.clock()
    if subscription is not None and subscription.story_slug == story.slug:
        day = subscription_day(subscription, story, now)
    else:
        day = story_day(story, now)
    return story, subscription, clamp_day(story, day)


async def story_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
    lang = lang_of(interaction)
    wanted = current.casefold().strip()
    out = []
    for story in client_of(interaction).services.library:
        title = story.meta.title(lang)
        if wanted in story.slug.casefold() or wanted in title.casefold():
            out.append(
                Choice(
                    name=truncate(f"{title} ({story.slug})", CHOICE_NAME_MAX),
                    value=story.slug[:100],
                )
            )
    return out[:CHOICES_MAX]


async def day_choices(interaction: discord.Interaction[Any], current: str) -> list[Choice[str]]:
    """The story's days with events, as ``YYYY-MM-DD · Day n``, filtered by what is typed."""
    lang = lang_of(interaction)
    client = client_of(interaction)
    slug = getattr(interaction.namespace, "story", None)
    try:
        story = client.services.library.get(slug) if slug else client.services.library.default
    except DepecheError:
        return []
    _ = ui(lang)
    wanted = current.strip()
    out = []
    for day in story.days:
        iso = day.isoformat()
        if wanted and not iso.startswith(wanted) and wanted not in iso:
            continue
        out.append(
            Choice(name=_("%(date)s · day %(n)s", date=iso, n=story.day_number(day)), value=iso)
        )
    return out[:CHOICES_MAX]


# --------------------------------------------------------------------------- members


def member_commands() -> list[app_commands.Command[Any, Any, Any]]:
    """Fresh command objects for one tree (tests build several clients in one process)."""

    @app_commands.command(
        name=N_("who"),
        description=N_("Who is who in the story: ask about a person or an organisation"),
    )
    @app_commands.describe(
        question=N_("A name or a question, e.g. Who fired Sam Altman?"),
        language=N_("Language of the answer (default: your Discord language)"),
        story=N_("Which story (default: the one this channel follows)"),
        public=N_("Show the answer to everyone in the channel"),
    )
    @app_commands.choices(language=LANGUAGES)
    async def who(
        interaction: discord.Interaction[Any],
        question: app_commands.Range[str, 1, 300],
        language: str | None = None,
        story: str | None = None,
        public: bool = False,
    ) -> None:
        watch(interaction, ephemeral=not public)
        lang = lang_of(interaction, language)
        chosen, _sub, today = await story_context(interaction, story)
        answer = index_for(chosen).answer(str(question), lang, today=today)
        await reply(interaction, render_document(answer.document), ephemeral=not public)

    @who.autocomplete("question")
    async def who_question(
        interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        lang = lang_of(interaction, getattr(interaction.namespace, "language", None))
        slug = getattr(interaction.namespace, "story", None)
        library = client_of(interaction).services.library
        try:
            if slug:
                chosen = library.get(slug)
            else:  # the channel's story; the default one if the database is slow to say
                found = await asyncio.wait_for(
                    story_context(interaction, None), AUTOCOMPLETE_BUDGET
                )
                chosen = found[0]
        except (DepecheError, TimeoutError):
            chosen = library.default
        suggestions = index_for(chosen).suggest((current or "")[:100], lang, CHOICES_MAX)
        seen: dict[str, Choice[str]] = {}
        for suggestion in suggestions:
            name = truncate(safe(suggestion.name).strip(), CHOICE_NAME_MAX)
            if name:  # Discord refuses the whole list for one empty name
                seen.setdefault(name, Choice(name=name, value=name))
        return list(seen.values())[:CHOICES_MAX]

    who.autocomplete("story")(story_choices)

    @app_commands.command(
        name=N_("timeline"), description=N_("The story's timeline, up to today or a given date")
    )
    @app_commands.describe(
        date=N_("Last day to show (YYYY-MM-DD)"),
        language=N_("Language of the answer (default: your Discord language)"),
        story=N_("Which story (default: the one this channel follows)"),
        public=N_("Show the answer to everyone in the channel"),
    )
    @app_commands.choices(language=LANGUAGES)
    async def timeline(
        interaction: discord.Interaction[Any],
        date: app_commands.Range[str, 1, 40] | None = None,
        language: str | None = None,
        story: str | None = None,
        public: bool = False,
    ) -> None:
        watch(interaction, ephemeral=not public)
        lang = lang_of(interaction, language)
        chosen, _sub, today = await story_context(interaction, story)
        until = parse_day(date, lang) or today
        document = compose_timeline(chosen, lang, until=until)
        await reply(interaction, render_document(document), ephemeral=not public)

    timeline.autocomplete("date")(day_choices)
    timeline.autocomplete("story")(story_choices)

    @app_commands.command(
        name=N_("faq"), description=N_("Frequently asked questions about the story")
    )
    @app_commands.describe(
        language=N_("Language of the answer (default: your Discord language)"),
        story=N_("Which story (default: the one this channel follows)"),
        public=N_("Show the answer to everyone in the channel"),
    )
    @app_commands.choices(language=LANGUAGES)
    async def faq(
        interaction: discord.Interaction[Any],
        language: str | None = None,
        story: str | None = None,
        public: bool = False,
    ) -> None:
        watch(interaction, ephemeral=not public)
        lang = lang_of(interaction, language)
        chosen, _sub, today = await story_context(interaction, story)
        document = compose_faq(chosen, lang, as_of=today)  # a replay's FAQ waits for its end
        await reply(interaction, render_document(document), ephemeral=not public)

    faq.autocomplete("story")(story_choices)

    @app_commands.command(name=N_("story"), description=N_("The story so far, for newcomers"))
    @app_commands.describe(
        language=N_("Language of the answer (default: your Discord language)"),
        story=N_("Which story (default: the one this channel follows)"),
        public=N_("Show the answer to everyone in the channel"),
    )
    @app_commands.choices(language=LANGUAGES)
    async def story_so_far(
        interaction: discord.Interaction[Any],
        language: str | None = None,
        story: str | None = None,
        public: bool = False,
    ) -> None:
        watch(interaction, ephemeral=not public)
        lang = lang_of(interaction, language)
        chosen, _sub, today = await story_context(interaction, story)
        document = compose_story_so_far(chosen, today, lang)
        await reply(interaction, render_document(document), ephemeral=not public)

    story_so_far.autocomplete("story")(story_choices)
    return [who, timeline, faq, story_so_far]


class DigestGroup(app_commands.Group):
    """/digest ..."""

    def __init__(self) -> None:
        super().__init__(name=N_("digest"), description=N_("The daily digest"))

    @app_commands.command(name=N_("preview"), description=N_("See a day's digest, only for you"))
    @app_commands.describe(
        date=N_("Story day (YYYY-MM-DD); default: what this channel gets today"),
        language=N_("Language of the digest (default: your Discord language)"),
        story=N_("Which story (default: the one this channel follows)"),
    )
    @app_commands.choices(language=LANGUAGES)
    async def preview(
        self,
        interaction: discord.Interaction[Any],
        date: app_commands.Range[str, 1, 40] | None = None,
        language: str | None = None,
        story: str | None = None,
    ) -> None:
        watch(interaction, ephemeral=True)
        lang = lang_of(interaction, language)
        chosen, _sub, today = await story_context(interaction, story)
        day = parse_day(date, lang) or today
        document = compose_digest(chosen, day, lang)
        if document is None:
            _ = ui(lang)
            await reply_text(
                interaction,
                chosen.meta.title(lang),
                _(
                    "No digest for %(date)s: nothing happened in the story that day.",
                    date=day.isoformat(),
                ),
            )
            return
        await reply(interaction, render_document(document))

    preview.autocomplete("date")(day_choices)
    preview.autocomplete("story")(story_choices)

    @app_commands.command(
        name=N_("me"), description=N_("Get the digest by direct message, at your time")
    )
    @app_commands.describe(
        time=N_("Local time of the post, HH:MM (default 08:00)"),
        timezone=N_("Your time zone, e.g. Europe/Paris"),
        language=N_("Language of the digest (default: your Discord language)"),
        stop=N_("Stop your personal digest"),
        days=N_("Days of the week, e.g. mon-fri or mon,wed,fri (default: every day)"),
        cadence=N_("daily (default) or weekly: a roll-up of the past seven days"),
        format=N_("full (default) or compact: headlines with one line each"),
    )
    @app_commands.choices(language=LANGUAGES, cadence=CADENCES, format=FORMATS)
    async def me(
        self,
        interaction: discord.Interaction[Any],
        time: app_commands.Range[str, 1, 20] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        language: str | None = None,
        stop: bool = False,
        days: app_commands.Range[str, 1, 100] | None = None,
        cadence: str | None = None,
        format: str | None = None,
    ) -> None:
        """Without options: your personal digest's settings (or a new one with defaults)."""
        await digest_me(
            interaction,
            time=str(time) if time else None,
            timezone=str(timezone) if timezone else None,
            language=language,
            stop=stop,
            days=str(days) if days else None,
            cadence=cadence,
            format=format,
        )

    me.autocomplete("days")(days_choices)

    @me.autocomplete("timezone")
    async def my_timezone_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return [Choice(name=zone, value=zone) for zone in timezones(current)]


# --------------------------------------------------------------------------- admins


def is_admin(interaction: discord.Interaction[Any]) -> bool:
    """Checked on our side too: ``default_member_permissions`` can be overridden by a server."""
    if interaction.guild_id is None:
        raise NotAnAdmin("not in a server")
    permissions = interaction.permissions
    if not (permissions.manage_guild or permissions.administrator):
        raise NotAnAdmin("missing Manage Server")
    return True


class AdminGroup(app_commands.Group):
    """/digest-admin ...: Manage Server only (Discord hides it from others; we check again)."""

    def __init__(self) -> None:
        super().__init__(
            name=N_("digest-admin"),
            description=N_("Configure the daily digest in this server (Manage Server)"),
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return is_admin(interaction)

    # helpers ---------------------------------------------------------------

    @staticmethod
    def actor(interaction: discord.Interaction[Any]) -> Actor:
        return Actor(
            user_id=str(interaction.user.id),
            via="chat",
            where=str(interaction.channel_id) if interaction.channel_id else None,
            lang=lang_of(interaction),
        )

    @staticmethod
    def target(
        interaction: discord.Interaction[Any],
        channel: discord.abc.Snowflake,
        language: str | None = None,
    ) -> Target:
        return Target(PLATFORM, str(interaction.guild_id), str(channel.id), language)

    @staticmethod
    def channel_label(channel: Any) -> str:
        name = safe(str(getattr(channel, "name", "") or "")).strip()
        return f"#{truncate(name, 100)}" if name else f"<#{channel.id}>"

    @staticmethod
    async def defer(interaction: discord.Interaction[Any]) -> None:
        await defer(interaction, ephemeral=True)

    @staticmethod
    def lines(infos: list[SubscriptionInfo], lang: str) -> str:
        return "\n".join(f"<#{info.channel_id}> — {safe(describe(info, lang))}" for info in infos)

    # commands --------------------------------------------------------------

    @app_commands.command(
        name=N_("subscribe"),
        description=N_("Post the daily digest in a channel (or change its settings)"),
    )
    @app_commands.describe(
        channel=N_("Where to post"),
        language=N_("Language of the posts"),
        time=N_("Local time of the post, HH:MM (24-hour clock)"),
        timezone=N_("Time zone, e.g. Europe/Paris"),
        mode=N_("live (default) or replay from day 1"),
        start=N_("Replay: the date of the first post (YYYY-MM-DD, default today)"),
        story=N_("Which story (default: the shipped story)"),
        days=N_("Days of the week, e.g. mon-fri or mon,wed,fri (default: every day)"),
        cadence=N_("daily (default) or weekly: a roll-up of the past seven days"),
        format=N_("full (default) or compact: headlines with one line each"),
        thread=N_("none (default) or daily: each digest starts a thread for discussion"),
    )
    @app_commands.choices(
        language=SUBSCRIPTION_LANGUAGES,
        mode=MODES,
        cadence=CADENCES,
        format=FORMATS,
        thread=THREADS,
    )
    async def subscribe(
        self,
        interaction: discord.Interaction[Any],
        channel: ChannelOption,
        language: str,
        time: app_commands.Range[str, 1, 20],
        timezone: app_commands.Range[str, 1, 64],
        mode: str = "live",
        start: app_commands.Range[str, 1, 40] | None = None,
        story: str | None = None,
        days: app_commands.Range[str, 1, 100] | None = None,
        cadence: str = "daily",
        format: str = "full",
        thread: str = "none",
    ) -> None:
        actor = self.actor(interaction)
        start_day = parse_day(start, actor.lang)
        await self.defer(interaction)
        client = client_of(interaction)
        spec = SubscriptionSpec(
            platform=PLATFORM,
            workspace_id=str(interaction.guild_id),
            channel_id=str(channel.id),
            lang=language,
            post_time=str(time),
            timezone=str(timezone),
            mode=mode,
            start_date=start_day,
            story_slug=story or None,
            days=str(days) if days else ALL_DAYS,
            cadence=cadence,
            format=format,
            thread=thread,
        )
        info, created = await client.services.admin.subscribe(spec, actor)
        client.services.forget()
        _ = ui(actor.lang)
        title = _("Subscribed") if created else _("Subscription updated")
        await reply_text(interaction, title, self.lines([info], actor.lang), trusted=True)

    subscribe.autocomplete("story")(story_choices)
    subscribe.autocomplete("days")(days_choices)

    @subscribe.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[Choice[str]]:
        return [Choice(name=zone, value=zone) for zone in timezones(current)]

    @app_commands.command(
        name=N_("unsubscribe"), description=N_("Stop posting the digest in a channel")
    )
    @app_commands.describe(
        channel=N_("The channel"), language=N_("Only this language (default: all)")
    )
    @app_commands.choices(language=SUBSCRIPTION_LANGUAGES)
    async def unsubscribe(
        self,
        interaction: discord.Interaction[Any],
        channel: ChannelOption,
        language: str | None = None,
    ) -> None:
        await self.defer(interaction)
        client = client_of(interaction)
        actor = self.actor(interaction)
        infos = await client.services.admin.unsubscribe(
            self.target(interaction, channel, language), actor
        )
        client.services.forget()
        _ = ui(actor.lang)
        await reply_text(
            interaction, _("Unsubscribed"), self.lines(infos, actor.lang), trusted=True
        )

    @app_commands.command(name=N_("pause"), description=N_("Pause the digest in a channel"))
    @app_commands.describe(
        channel=N_("The channel"), language=N_("Only this language (default: all)")
    )
    @app_commands.choices(language=SUBSCRIPTION_LANGUAGES)
    async def pause(
        self,
        interaction: discord.Interaction[Any],
        channel: ChannelOption,
        language: str | None = None,
    ) -> None:
        await self.switch(interaction, channel, language, pause=True)

    @app_commands.command(name=N_("resume"), description=N_("Resume the digest in a channel"))
    @app_commands.describe(
        channel=N_("The channel"), language=N_("Only this language (default: all)")
    )
    @app_commands.choices(language=SUBSCRIPTION_LANGUAGES)
    async def resume(
        self,
        interaction: discord.Interaction[Any],
        channel: ChannelOption,
        language: str | None = None,
    ) -> None:
        await self.switch(interaction, channel, language, pause=False)

    async def switch(
        self,
        interaction: discord.Interaction[Any],
        channel: ChannelOption,
        language: str | None,
        *,
        pause: bool,
    ) -> None:
        """Pause or resume a channel's subscriptions through the admin service."""
        await self.defer(interaction)
        client = client_of(interaction)
        actor = self.actor(interaction)
        target = self.target(interaction, channel, language)
        admin = client.services.admin
        infos = await (admin.pause(target, actor) if pause else admin.resume(target, actor))
        _ = ui(actor.lang)
        title = _("Paused") if pause else _("Resumed")
        await reply_text(interaction, title, self.lines(infos, actor.lang), trusted=True)

    @app_commands.command(
        name=N_("list"), description=N_("The digest subscriptions of this server")
    )
    async def list(self, interaction: discord.Interaction[Any]) -> None:
        await self.defer(interaction)
        client = client_of(interaction)
        actor = self.actor(interaction)
        _ = ui(actor.lang)
        infos = await client.services.admin.list(
            platform=PLATFORM, workspace_id=str(interaction.guild_id)
        )
        text = (
            self.lines(infos, actor.lang)
            if infos
            else _("No subscriptions in this server yet: use /digest-admin subscribe.")
        )
        await reply_text(interaction, _("Subscriptions"), text, trusted=True)

    @app_commands.command(
        name=N_("status"), description=N_("Recent posts and problems of a channel's digest")
    )
    @app_commands.describe(channel=N_("The channel"))
    async def status(self, interaction: discord.Interaction[Any], channel: ChannelOption) -> None:
        await self.defer(interaction)
        client = client_of(interaction)
        actor = self.actor(interaction)
        reports = await client.services.admin.status(self.target(interaction, channel), actor)
        text = "\n\n".join(safe(format_status(report, actor.lang)) for report in reports)
        _ = ui(actor.lang)
        await reply_text(
            interaction, _("Status of %(channel)s", channel=self.channel_label(channel)), text
        )

    @app_commands.command(
        name=N_("send-now"), description=N_("Post today's digest now (or a given story day)")
    )
    @app_commands.describe(
        channel=N_("The channel"),
        date=N_("A story day to post at once (YYYY-MM-DD); default: today's digest"),
    )
    async def send_now(
        self,
        interaction: discord.Interaction[Any],
        channel: ChannelOption,
        date: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        actor = self.actor(interaction)
        day = parse_day(date, actor.lang)
        await self.defer(interaction)
        client = client_of(interaction)
        _ = ui(actor.lang)
        target = self.target(interaction, channel)
        # Through the outbox in both cases (rate limits, retries, exactly-once): without a date
        # today's scheduled post, with one a manual delivery of that story day.
        deliveries = await client.services.admin.send_now(target, actor, day)
        lines = []
        for delivery in deliveries:
            error = (
                f" — {delivery.last_error}"
                if delivery.last_error and delivery.status != "sent"
                else ""
            )
            shown_day = (
                (delivery.story_date or delivery.digest_date) if day else delivery.digest_date
            )
            lines.append(f"{shown_day.isoformat()} [{delivery.lang}] {_(delivery.status)}{error}")
        await reply_text(interaction, _("Send now"), safe("\n".join(lines)))

    send_now.autocomplete("date")(day_choices)


# The statuses a delivery can have, translated where shown (send-now).
STATUS_WORDS = (N_("pending"), N_("sending"), N_("sent"), N_("failed"), N_("skipped"))


def timezones(current: str) -> list[str]:
    """IANA names for the autocomplete: common ones first when nothing is typed, else those
    starting with (then containing) what is typed, then close spellings."""
    wanted = current.strip().replace(" ", "_").casefold()
    if not wanted:
        return list(COMMON_ZONES)[:CHOICES_MAX]
    zones = _zones()
    starts = [
        z
        for z in zones
        if z.casefold().startswith(wanted) or z.casefold().split("/")[-1].startswith(wanted)
    ]
    contains = [z for z in zones if wanted in z.casefold() and z not in starts]
    out = list(dict.fromkeys(starts + contains))
    if len(out) < CHOICES_MAX:
        out += [z for z in suggest_timezones(current[:64], limit=CHOICES_MAX) if z not in out]
    return [z[:100] for z in out[:CHOICES_MAX]]


async def setup(client: DepecheClient) -> None:
    """Add the commands to the client's tree (called from ``setup_hook``)."""
    for command in member_commands():
        client.tree.add_command(command)
    client.tree.add_command(DigestGroup())
    client.tree.add_command(AdminGroup())


__all__ = ["AdminError", "AdminGroup", "DigestGroup", "NotAnAdmin", "member_commands", "setup"]
