"""The words of the pages: fixed UI strings by language, and values written the way people read them.

Templates get these as ``t`` (the strings) and as filters (dates, durations, sizes, hosts); the
site's structured data uses the same formats so a page and its metadata agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import quote, urlsplit

#: Fixed page strings by language; English is the fallback for missing languages and keys.
_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content", "home": "Home", "episodes": "Episodes", "guests": "Guests",
        "guest": "Guest", "subscribe": "Subscribe", "hosted_by": "Hosted by", "with": "With",
        "season": "Season {n}", "episode": "Episode {n}", "trailer": "Trailer", "bonus": "Bonus",
        "artwork": "{title} artwork", "photo": "Photo of {name}",
        "player": "Play the episode: {title}", "download": "Download the audio ({format}, {size})",
        "notes": "Show notes", "quote": "Quote to remember", "chapters": "Chapters",
        "play_from": "Play from {time}", "links": "Links and resources", "transcript": "Transcript",
        "read_transcript": "Read the transcript", "transcript_file": "Download",
        "previous": "Previous episode", "next": "Next episode", "episode_nav": "More episodes",
        "subscribe_intro": "Follow the show in your podcast app, or with any app that reads RSS:",
        "rss": "RSS feed", "feed_address": "Feed address", "copy_address": "Copy", "copied": "Copied",
        "appears_in": "Appears in", "website": "Website", "support": "Support the show",
        "guests_intro": "Everyone we have talked with, and the episodes to hear them in.",
        "episode_count": "{n} episodes", "feed_title": "Podcast feed",
        "feed_intro": "This page is the show's feed: an address for podcast apps rather than for reading. "
        "To subscribe, copy the address below into your podcast app (look for “Add a podcast” or "
        "“Follow a show by URL”), or open one of the apps listed.",
        "visit_site": "Visit the website", "latest": "Latest episodes",
        "more_online": "Full show notes and transcript", "made_with": "Published with entretiens",
        "date": "{month} {day}, {year}", "first_day": "1",
        "months": "January February March April May June July August September October November December",
        "megabytes": "MB", "kilobytes": "kB", "decimal": ".", "listen": "Listen to the episode",
        "colon": ": ", "quoted": "“{}”",
        "subscribe_title": "Subscribe to {title}",
        "subscribe_lead": "Open the show in your podcast app with one tap, or copy its address into any other app.",
        "subscribe_apps": "In your podcast app", "subscribe_directories": "In a directory",
        "subscribe_other": "Any other app",
        "subscribe_howto": "Copy the address above, then in your app look for “Add a podcast”, “Add by URL” or "
        "“Follow a show by RSS”, and paste it. Every podcast app can follow a show this way.",
        "not_found_title": "Page not found",
        "not_found_text": "There is nothing at this address. The episode may have moved: "
        "the list of episodes is below.",
        "play": "Play", "pause": "Pause", "back": "Back 15 seconds", "forward": "Forward 30 seconds",
        "about": "About the show", "speed": "Speed", "position": "Position", "remaining": "remaining",
        "now_playing": "Chapter: {title}",
        "shortcuts": "Keyboard: space or K plays and pauses, J or ← goes back 15 s, L or → forward 30 s.",
        "embed": "Embed this episode", "embed_code": "Code to paste into your page",
        "embed_title": "{title}, player",
    },
    "fr": {
        "skip": "Aller au contenu", "home": "Accueil", "episodes": "Épisodes", "guests": "Invités",
        "guest": "Invité", "subscribe": "S'abonner", "hosted_by": "Animé par", "with": "Avec",
        "season": "Saison {n}", "episode": "Épisode {n}", "trailer": "Bande-annonce", "bonus": "Bonus",
        "artwork": "Visuel : {title}", "photo": "Photo de {name}",
        "player": "Écouter l'épisode : {title}", "download": "Télécharger l'audio ({format}, {size})",
        "notes": "Notes de l'épisode", "quote": "La phrase à retenir", "chapters": "Chapitres",
        "play_from": "Écouter à partir de {time}", "links": "Liens et ressources", "transcript": "Transcription",
        "read_transcript": "Lire la transcription", "transcript_file": "Télécharger",
        "previous": "Épisode précédent", "next": "Épisode suivant", "episode_nav": "Autres épisodes",
        "subscribe_intro": "Suivez l'émission dans votre application de podcasts, "
        "ou avec toute application qui lit le RSS :",
        "rss": "Flux RSS", "feed_address": "Adresse du flux", "copy_address": "Copier", "copied": "Copié",
        "appears_in": "À écouter dans", "website": "Site web", "support": "Soutenir l'émission",
        "guests_intro": "Toutes les personnes interviewées, et les épisodes où les écouter.",
        "episode_count": "{n} épisodes", "feed_title": "Flux du podcast",
        "feed_intro": "Cette page est le flux de l'émission : une adresse destinée aux applications de podcasts "
        "plutôt qu'à la lecture. Pour vous abonner, copiez l'adresse ci-dessous dans votre application "
        "(« Ajouter un podcast » ou « S'abonner par URL »), ou ouvrez l'une des applications proposées.",
        "visit_site": "Voir le site de l'émission", "latest": "Derniers épisodes",
        "more_online": "Notes complètes et transcription", "made_with": "Publié avec entretiens",
        "date": "{day} {month} {year}", "first_day": "1er",
        "months": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "megabytes": "Mo", "kilobytes": "ko", "decimal": ",", "listen": "Écouter l'épisode",
        "colon": "\u00a0: ", "quoted": "«\u00a0{}\u00a0»",
        "subscribe_title": "S'abonner à {title}",
        "subscribe_lead": "Ouvrez l'émission dans votre application de podcasts d'un geste, "
        "ou copiez son adresse dans n'importe quelle autre application.",
        "subscribe_apps": "Dans votre application", "subscribe_directories": "Dans un annuaire",
        "subscribe_other": "Toute autre application",
        "subscribe_howto": "Copiez l'adresse ci-dessus, puis cherchez dans votre application « Ajouter un podcast », "
        "« Ajouter par URL » ou « S'abonner par RSS », et collez-la. "
        "Toutes les applications de podcasts le permettent.",
        "not_found_title": "Page introuvable",
        "not_found_text": "Il n'y a rien à cette adresse. L'épisode a peut-être changé de place : "
        "la liste des épisodes est ci-dessous.",
        "play": "Lecture", "pause": "Pause", "back": "Reculer de 15 secondes", "forward": "Avancer de 30 secondes",
        "about": "À propos de l'émission", "speed": "Vitesse", "position": "Position", "remaining": "restant",
        "now_playing": "Chapitre\u00a0: {title}",
        "shortcuts": "Clavier\u00a0: espace ou K lance et met en pause, J ou ← recule de 15 s, L ou → avance de 30 s.",
        "embed": "Intégrer cet épisode", "embed_code": "Code à coller dans votre page",
        "embed_title": "{title}, lecteur",
    },
}  # fmt: skip


def subscribe_apps(feed_url: str) -> tuple[tuple[str, str], ...]:
    """(app, link) for the podcast apps that open a feed from a link, by the schemes they document.

    Apple Podcasts, Pocket Casts, Castro and Podcast Addict take the feed's address without its
    scheme; Overcast takes it whole and percent-encoded; AntennaPod has a web link that opens it.
    """
    bare = feed_url.split("://", 1)[-1]
    encoded = quote(feed_url, safe="")
    return (
        ("Apple Podcasts", f"podcast://{bare}"),
        ("Overcast", f"overcast://x-callback-url/add?url={encoded}"),
        ("Pocket Casts", f"pktc://subscribe/{bare}"),
        ("Castro", f"castros://subscribe/{bare}"),
        ("AntennaPod", f"https://antennapod.org/deeplink/subscribe?url={encoded}"),
        ("Podcast Addict", f"podcastaddict://{bare}"),
    )


#: How directory names of feed.yaml's ``subscribe:`` are shown; other labels are shown as written.
DIRECTORY_NAMES = MappingProxyType({
    "apple": "Apple Podcasts", "spotify": "Spotify", "youtube": "YouTube", "youtube_music": "YouTube Music",
    "amazon": "Amazon Music", "deezer": "Deezer", "pocketcasts": "Pocket Casts", "overcast": "Overcast",
    "castbox": "Castbox", "podcastaddict": "Podcast Addict", "antennapod": "AntennaPod",
    "castro": "Castro", "podcastindex": "Podcast Index", "fountain": "Fountain", "goodpods": "Goodpods",
})  # fmt: skip


def strings(language: str) -> Mapping[str, str]:
    """The fixed page strings for a show language ("fr-CA" uses "fr"), falling back to English."""
    return _strings(language.split("-")[0].split("_")[0].lower())


@lru_cache(maxsize=32)
def _strings(code: str) -> Mapping[str, str]:
    # Read-only, so one merged mapping serves every page and date of a build (thousands).
    return MappingProxyType({**_STRINGS["en"], **_STRINGS.get(code, {})})


def long_date(moment: datetime, language: str) -> str:
    """A date as people write it in the show's language: "14 mars 2011", "March 14, 2011"."""
    words = strings(language)
    day = words["first_day"] if moment.day == 1 else str(moment.day)
    month = words["months"].split()[moment.month - 1]
    return words["date"].format(day=day, month=month, year=moment.year)


def human_duration(duration: timedelta) -> str:
    """A length for people: "45 s", "52 min", "1 h 05 min"."""
    seconds = round(duration.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def iso_duration(duration: timedelta) -> str:
    """ISO 8601 duration ("PT1H5M3S"), for ``<time datetime>`` and schema.org."""
    hours, rest = divmod(round(duration.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{seconds}S" if seconds or text == "PT" else "")


def file_size(size: int, language: str) -> str:
    """A file size in the show's language: "850 kB", "12.3 MB", "12,3 Mo"."""
    words = strings(language)
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} {words['kilobytes']}"
    return f"{size / 1_000_000:.1f}".replace(".", words["decimal"]) + " " + words["megabytes"]


def link_host(url: str) -> str:
    """The site a link leads to, as people read it: "example.org"."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def directory_name(label: str) -> str:
    """The display name of a ``subscribe:`` entry."""
    return DIRECTORY_NAMES.get(label.lower().replace(" ", "").replace("-", ""), label)
