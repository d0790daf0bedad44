"""The rules on the show folder: id, severity, what triggers it, how to fix it.

Rows of :data:`entretiens.rulebook.RULES`, by section of ``docs/rules.md`` (the artwork, the
episodes, the audio, the feed as a whole, links); the loader's and the pipeline's own rules
are in ``_loader.py``. The summaries and fixes are written for people and copied as they are
into the docs.
"""

from __future__ import annotations

from entretiens.rulebook._model import Row

ARTWORK: tuple[Row, ...] = (
    (
        "artwork-format",
        "error",
        "The file is not an image, is damaged or cut, is not JPEG or PNG (GIF, WebP...), or its content does not "
        "match its extension (JPEG data in a `.png`). Also raised by the loader when the name does not end in "
        "`.jpg`, `.jpeg` or `.png`.",
        "Export it again as JPEG (`.jpg`) or PNG (`.png`).",
    ),
    (
        "artwork-size",
        "error",
        "A side is under 1400 or over 3000 pixels (Apple Podcasts' limits).",
        "Export it at 3000×3000 px, Apple's preferred size, or at least 1400×1400.",
    ),
    ("artwork-square", "error", "Width and height differ.", "Crop it square."),
    (
        "artwork-colorspace",
        "error",
        "Greyscale, black and white, CMYK or another non-RGB mode: Apple needs RGB.",
        "Convert it to RGB.",
    ),
    (
        "artwork-alpha",
        "warning",
        "An alpha channel (transparency) or a palette (indexed colours): Apple asks for plain RGB, and apps show "
        "transparency differently.",
        "Flatten it and save it as RGB.",
    ),
    (
        "artwork-file-size",
        "warning",
        "The file weighs more than 512 KB. Apple states no limit, but hosts, Spotify and NPR One ask for 512 KB at "
        "most, and apps download the artwork often.",
        "Save it as JPEG at quality 80 to 90.",
    ),
    (
        "image-not-image",
        "error",
        "A photo of a host or guest, or a chapter image, holds no image at all (a web page, text, a YAML file): it "
        "would be published under an image's name.",
        "Put the image itself there (JPEG or PNG), or remove the `image:` line.",
    ),
    (
        "image-invalid",
        "warning",
        "A photo of a host or guest (`image`), or a chapter image, is not a readable JPEG or PNG. Reported where "
        "the image is named (the episode, `feed.yaml`, or `guests/<id>.yaml`).",
        "Export it again as JPEG or PNG.",
    ),
    (
        "image-too-large",
        "error",
        "An image (artwork, a photo, a chapter image) declares over 50 million pixels: decoding it would take "
        "gigabytes. Refused from its header, before any pixel is decoded.",
        "Export it smaller: 3000×3000 pixels is plenty.",
    ),
    (
        "remote-image",
        "warning",
        "An image on another host in Markdown text (show or episode notes, a bio) or an HTML transcript: pages and "
        "the feed load nothing from other hosts (it would be a tracking pixel for every reader), so it is left out.",
        "Put the image in the show folder and name it by its path, or leave it out.",
    ),
    (
        "remote-image-failed",
        "warning",
        "An image field holding a URL (artwork, a photo) could not be downloaded (10 MB at most, 60 s) or is not an "
        "image browsers show (JPEG, PNG, GIF, WebP; 50 million pixels at most): the pages leave it out. The feed "
        "still names the URL.",
        "Check the address, or put the image in the show folder and name it by its path.",
    ),
    (
        "show-description-length",
        "error",
        "The show's description is longer than 4000 bytes once rendered to plain text (Apple's limit for "
        "`<description>`).",
        "Shorten it; leave the rest to the website.",
    ),
)

EPISODES: tuple[Row, ...] = (
    (
        "episode-title-show-name",
        "warning",
        "The title contains the show's title as a whole phrase (case ignored). Apple's guideline: apps show the "
        "show's name already. Not checked for show titles of fewer than 3 letters.",
        "Remove the show's name from the title.",
    ),
    (
        "episode-title-number",
        "warning",
        "The title carries an episode number: `Episode 12`, `Épisode 12`, `Ep. 12`, `#12`, `S01E12`, or the "
        "episode's own `number` at the start (`12 - `, `012. `, `[12] `) or at the end in brackets (`(12)`). "
        "Apple's guideline: apps show the number from `<itunes:episode>`. Other numbers (`3 établis`, `2024 :`) "
        "are fine.",
        "Remove it; set `number:`.",
    ),
    (
        "episode-description-missing",
        "warning",
        "Neither `summary` nor `notes`: apps show nothing but the title.",
        "Add `summary:` and `notes:`.",
    ),
    (
        "episode-summary-missing",
        "info",
        "`notes` but no `summary`: apps show the start of the notes under the title.",
        "Add a one- or two-sentence `summary:`.",
    ),
    (
        "episode-summary-long",
        "warning",
        'The summary is longer than 600 characters ("one or two sentences"; apps show two or three lines).',
        "Shorten it; move the rest to `notes:`.",
    ),
    (
        "episode-notes-long",
        "warning",
        "The notes are longer than 4000 bytes once rendered to HTML: Apple's limit for an episode's description. "
        "The feed's `<description>` then carries the summary (and chapters) only; `<content:encoded>` keeps the "
        "full notes for the apps that read it.",
        "Shorten the notes.",
    ),
    (
        "guest-bio-missing",
        "warning",
        "A guest of the episode has no bio (neither in `guests/<id>.yaml` nor in the episode). Reported at the "
        "guest's item in the episode.",
        "Add `bio:` to the registry file or to the guest in the episode.",
    ),
    (
        "serial-number-missing",
        "error",
        "The show is `type: serial` and a `full` episode has no `number` (Apple orders serial shows by number). "
        "Trailers and bonus episodes may go without.",
        "Add `number:`.",
    ),
    (
        "number-gap",
        "info",
        "Within a season, full episodes' numbers skip one or more (`1, 2, 4`), or the season's numbers start above "
        "1 without continuing the previous season's. Reported at the `number` line of the episode after the gap. "
        "Drafts count: their number is taken.",
        "Check the numbers.",
    ),
    (
        "episode-date-future",
        "warning",
        "The episode is dated more than 90 days ahead: most likely a typo in the year. `publish` leaves it out "
        "until then.",
        "Fix the date, or set `draft: true` to keep it out on purpose.",
    ),
    (
        "episode-scheduled",
        "info",
        "The episode is dated in the future, within 90 days: scheduled publishing.",
        "Nothing; publish again after that date.",
    ),
)

AUDIO: tuple[Row, ...] = (
    (
        "audio-http",
        "warning",
        "An imported episode's recording, left at the old host, is served over plain `http://`. It is published as "
        "it is: subscribers' apps know the episode by this URL.",
        "Serve the file over https at the old host, or download it (`import --download-audio`, or by hand into "
        "`audio/`) and publish it from the show.",
    ),
    (
        "audio-too-short",
        "warning",
        "The audio lasts less than 2 seconds: a failed or wrong export.",
        "Export the episode again.",
    ),
    (
        "audio-truncated",
        "warning",
        "The file's own header (MP3 Xing/Info, WAV data size, FLAC stream info) announces more audio than the file "
        "holds: a cut copy or upload. The feed gives the length really present.",
        "Copy or export the file again.",
    ),
    (
        "audio-trailing-data",
        "warning",
        "More than 1 MB (or a tenth of the file) after the end of an MP3's audio is neither audio nor tags: zeros "
        "or junk that every listener downloads.",
        "Export the file again, or cut the end.",
    ),
    (
        "audio-format",
        "warning",
        "A format Apple Podcasts does not play: Ogg Vorbis, Opus, FLAC, WAV (any type outside MP3, AAC/M4A and the "
        "video types Apple lists). Other apps play them, so the show still publishes.",
        "Publish MP3 or AAC (M4A) to reach Apple Podcasts listeners.",
    ),
    (
        "audio-bitrate-low",
        "warning",
        "Under 24 kbps mono or 48 kbps stereo for MP3; under 16 kbps mono or 32 kbps stereo for AAC, Opus and "
        "Vorbis. Not checked for lossless formats.",
        "Encode at a higher bit rate.",
    ),
    (
        "audio-bitrate-high",
        "warning",
        "Over 128 kbps mono or 192 kbps stereo: more than speech needs, bigger downloads. Not checked for lossless "
        "formats.",
        "Encode at 64 to 128 kbps.",
    ),
    ("audio-sample-rate-low", "warning", "Under 22 050 Hz: voices sound muffled.", "Resample to 44 100 Hz."),
    (
        "audio-sample-rate-high",
        "warning",
        "Over 48 000 Hz: a bigger file for nothing.",
        "Resample to 44 100 or 48 000 Hz.",
    ),
    ("audio-channels", "warning", "More than two channels: apps play mono or stereo.", "Mix down to stereo or mono."),
    (
        "audio-channels-mixed",
        "info",
        "The episode is mono while most are stereo, or the reverse. (Every run also prints one line on the audio: "
        "formats, bit rates, mono or stereo, total length.)",
        "Speech needs no stereo: mono halves the size.",
    ),
)

FEED: tuple[Row, ...] = (
    (
        "feed-size",
        "warning",
        "The generated feed is larger than 1 MB: apps download all of it at every refresh, often hourly, and some "
        "services (FeedBurner) stop reading feeds over 1 MB.",
        "Cap the feed with `feed_limit: N` in feed.yaml: the newest N episodes stay in feed.xml, the "
        "older ones move to archive pages (RFC 5005). Or shorten the notes of old episodes.",
    ),
    (
        "feed-episode-count",
        "info",
        "More than 300 episodes: some directories (Apple Podcasts long did) list only the newest 300.",
        "Nothing to fix: the website keeps them all; `feed_limit: 300` in feed.yaml keeps feed.xml to the "
        "newest 300 and archives the rest.",
    ),
    (
        "no-episodes",
        "error",
        "No episode to publish: every episode is a draft or dated in the future.",
        "Set `draft: false`, or `publish --include-future`.",
    ),
    (
        "build-error",
        "error",
        "Building the output failed (for example two files would be published at the same path). The message says why.",
        "Follow the message.",
    ),
)

LINKS: tuple[Row, ...] = (
    (
        "remote-audio-unreachable",
        "warning",
        "`check --remote-audio`: a recording left at the old host does not answer (gone, moved, refused).",
        "Download it while you can, or point `audio.url` at where it is now.",
    ),
    (
        "remote-audio-mismatch",
        "warning",
        "`check --remote-audio`: a recording left at the old host is not what `audio.length` or `audio.type` declare.",
        "Write the real values, or download the file into `audio/` to publish it measured.",
    ),
    (
        "remote-audio-range",
        "warning",
        "`check --remote-audio`: the old host does not answer a byte-range request with 206.",
        "Serve the file from a host that honours byte ranges; Apple Podcasts requires them.",
    ),
    (
        "link-moved",
        "warning",
        "The address answers with a permanent redirect (`301`, `308`, possibly several in a row) to a page that "
        "works. The message gives the new address: the last one reached by permanent redirects from the address "
        "itself (temporary redirects, `302`, `303`, `307`, are not reported).",
        "Write the new address in the YAML.",
    ),
    (
        "link-dead",
        "warning",
        "`404`, `410` or another `4xx` answer (after `GET` when `HEAD` was refused), possibly after redirects; "
        "also a redirect without `Location`.",
        "Fix or remove the link; an archived copy (web.archive.org) can replace it.",
    ),
    (
        "link-denied",
        "warning",
        "`401` or `403`, also to `GET`: the page is private, or the site refuses automated checks.",
        "Open it in a browser.",
    ),
    ("link-rate-limited", "warning", "Still `429 Too Many Requests` after the retries.", "Check again later."),
    (
        "link-server-error",
        "warning",
        "Still a `5xx` answer after the retries (`501` and others that are not retried: at once).",
        "Check again later; if it lasts, the site is broken.",
    ),
    (
        "link-unreachable",
        "warning",
        "No connection: unknown host name, connection refused, TLS error, invalid address.",
        "Check the address; the domain may have expired.",
    ),
    (
        "link-timeout",
        "warning",
        "No answer within `--timeout` seconds, or not finished when the `--deadline` came.",
        "Check again later, or allow more time.",
    ),
    (
        "link-redirect-loop",
        "warning",
        "The redirects lead back to an address already visited, or there are more than 10 of them.",
        "Link to the page's current address.",
    ),
)
