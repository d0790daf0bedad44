"""The rules on the show folder: id, severity, what triggers it, how to fix it.

Rows of :data:`entretiens.rulebook.RULES`, by section of ``docs/rules.md``; the summaries and
fixes are written for people and copied as they are into the docs.
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

LOADER: tuple[Row, ...] = (
    (
        "yaml-syntax",
        "error",
        "A file is not UTF-8, cannot be read, weighs over 20 MB, is not valid YAML, nests lists and mappings over "
        "64 levels deep, or repeats a key.",
        "Fix the syntax at the line given; quote values holding `: ` or `#`.",
    ),
    (
        "field-type",
        "error",
        "A value of the wrong kind (text where a list is expected...), or a file that is not a mapping.",
        "Write the kind of value the message asks for.",
    ),
    (
        "unknown-field",
        "error",
        "A key the format does not know (a typo, usually).",
        "Use the suggested key, or remove it.",
    ),
    (
        "missing-field",
        "error",
        "A required field is absent or empty (`title`, `date`, `audio`, `owner.email`...), or a license without "
        "`url` that needs one.",
        "Add it.",
    ),
    (
        "missing-file",
        "error",
        "No `feed.yaml`, or a file named in a field (audio, artwork, transcript) does not exist.",
        "Check the path and its case.",
    ),
    (
        "invalid-path",
        "error",
        "A file named in a field lies outside the show folder.",
        "Keep media in the show folder.",
    ),
    (
        "invalid-url",
        "error",
        "Not an absolute URL; or not `https://` where https is required (`base_url`, `link`, `funding`, artwork "
        "and photo URLs, remote audio...). Cited links, profiles and `subscribe` pages may use `http://`. A "
        "`base_url` with a `?query`, a `#fragment` or a `user:password@`.",
        "Write the full `https://` address.",
    ),
    ("invalid-email", "error", "The owner's e-mail address is malformed.", "Write it as `name@example.org`."),
    ("invalid-date", "error", "A date that cannot be read.", "Write `2011-02-21T09:00:00+01:00` (or a bare date)."),
    (
        "invalid-time",
        "error",
        "A chapter or soundbite time that cannot be read.",
        'Write seconds, `"MM:SS"` or `"HH:MM:SS"`, quoted.',
    ),
    (
        "invalid-value",
        "error",
        "A value outside its choices (`type`, `medium`...), a show `guid` that is not a UUID, text over 128 "
        "characters (`funding.text`, `season_name`, soundbite titles), an unknown license id, a malformed "
        "`location`, a soundbite of 0 seconds, text holding a control character (written as a YAML escape) or over "
        "100,000 characters.",
        "Use one of the values listed in the message.",
    ),
    (
        "invalid-language",
        "error",
        "`language` (or a transcript's) is not an ISO 639-1 code with an optional region.",
        "Write `fr`, `fr-FR`, `en-us`.",
    ),
    ("invalid-timezone", "error", "`timezone` is not an IANA time zone name.", "Write `Europe/Paris`, `UTC`..."),
    (
        "invalid-category",
        "error",
        "A category or subcategory is not in Apple's list (names are exact).",
        "Use the suggested name.",
    ),
    (
        "invalid-slug",
        "error",
        "An episode file name that cannot name a page, or one reserved by the site.",
        "Rename the file: lower-case letters, digits, dashes.",
    ),
    (
        "person-taxonomy",
        "error",
        "A person's `role` or `group` is not in the Podcasting 2.0 taxonomy, or the role is not in the group.",
        "Use a role of the taxonomy; set `group:`.",
    ),
    (
        "unknown-guest",
        "error",
        "A guest id with no `guests/<id>.yaml`.",
        "Use the suggested id, or write the guest inline.",
    ),
    (
        "transcript-format",
        "error",
        "A transcript whose extension is not `.vtt`, `.srt`, `.json`, `.html` or `.txt`.",
        "Convert it.",
    ),
    (
        "chapter-order",
        "error",
        "Chapters in the YAML that do not start strictly after each other; or two chapters embedded in the audio "
        "starting at the same time.",
        "List chapters in order, each with its own start.",
    ),
    ("duplicate-number", "error", "Two full episodes of the same season share a number.", "Give each its own number."),
    (
        "number-shared",
        "warning",
        "Two imported episodes (`imported: true`) that are live (pinned in `published.yaml`) share a number, often "
        "a trailer or a rerun at the old host. Kept as it is: what is live is history.",
        "Nothing to do; give new episodes numbers of their own.",
    ),
    (
        "file-extension",
        "error",
        "A file in `episodes/` or `guests/` ends in `.yml` (or `.YAML`): it would not be read.",
        "Rename it to `.yaml`.",
    ),
    (
        "duplicate-audio",
        "error",
        "Two episodes (drafts aside) name the same audio file or URL: Apple ignores an episode whose enclosure "
        "another already has.",
        "Give each episode its own recording.",
    ),
    ("duplicate-guid", "error", "Two episodes share a GUID.", "Remove the copied `guid:` line."),
    (
        "guid-changed",
        "error",
        "A `guid:` in feed.yaml or an episode differs from the GUID `published.yaml` pinned when it was first "
        "published: apps would take it for a new show or episode.",
        "Remove the `guid:` line; to change it all the same, delete the entry from `published.yaml`.",
    ),
    (
        "guid-orphaned",
        "warning",
        "A new episode file appears while `published.yaml` holds GUIDs of episodes whose file is gone: perhaps a "
        "renamed file, which would get a new GUID.",
        "If it is a rename, copy the old GUID into the file as `guid:`.",
    ),
    (
        "guid-recovered",
        "warning",
        "`published.yaml` lacks GUIDs (or the show's `podcast:guid`) of episodes the live `public/feed.xml` "
        "publishes: lost, emptied or cut short. They are taken from that feed (items matched by page link or "
        "audio file, whatever `base_url` is now) instead of derived anew, and publish writes them back.",
        "Commit `published.yaml` after this publish; restoring it from version control is safer.",
    ),
    (
        "guid-replaced",
        "warning",
        "`published.yaml` lost a GUID, and the `guid:` line of the episode (or of `feed.yaml`) differs from the "
        "one the live feed publishes: the `guid:` line wins, and apps will take it for a new episode (or show).",
        "Remove the `guid:` line to keep the live GUID.",
    ),
    (
        "guid-unrecoverable",
        "error",
        "`published.yaml` lost the show's GUID, and the live `public/feed.xml` cannot be read (damaged, not a "
        "regular file, over 256 MB), so the GUIDs already published cannot be recovered.",
        "Restore `published.yaml` (or the feed) from version control; if the show was never published from "
        "there, delete that feed.xml.",
    ),
    ("state-file", "error", "`published.yaml` is damaged.", "Restore it from version control."),
    (
        "state-dates",
        "warning",
        "The `changes:` record of `published.yaml` (when the show and each episode last changed) is damaged: "
        "the dates of the parts concerned become the next publish's.",
        "Restore `published.yaml` from version control, or let publish record it anew.",
    ),
    (
        "audio-invalid",
        "error",
        "The audio file is missing, empty, unreadable, damaged, not audio, lasts zero seconds, has an extension "
        "that lies about its content, or a remote file cannot be downloaded.",
        "Export or upload the file again.",
    ),
    ("chapter-after-end", "error", "A chapter starts after the end of the audio.", "Fix its start time, or the audio."),
    ("soundbite-after-end", "error", "A soundbite ends after the end of the audio.", "Shorten it or move its start."),
    (
        "chapters-disagree",
        "warning",
        "The YAML's chapters differ from those embedded in the audio; the YAML's are published.",
        "Update one of them.",
    ),
    (
        "transcript-encoding",
        "error",
        "A transcript is not UTF-8 text. Reported in the transcript file.",
        "Save it as UTF-8.",
    ),
    (
        "transcript-syntax",
        "error",
        "A transcript does not parse: no `WEBVTT` header, a malformed cue timing, no cue, an SRT cue without "
        "number, JSON without `version`/`segments`... Reported in the transcript file, at the line at fault.",
        "Fix the line given.",
    ),
    (
        "transcript-timing",
        "error",
        "A cue ends before it starts, starts before the previous one, or ends more than 2 s after the audio. "
        "Reported in the transcript file.",
        "Is the transcript made for this version of the recording?",
    ),
    (
        "transcript-duplicate",
        "error",
        "Two transcripts of the same format and language.",
        "Give each its own `language:`.",
    ),
    (
        "audio-tagging",
        "error",
        "Tags could not be written into the published copy of the audio (`tag_audio: true`).",
        "Export the file again, or publish without tagging.",
    ),
    (
        "template-error",
        "error",
        "A template of the show's `templates/` cannot be rendered: a syntax error, an error while rendering (a "
        "Python error, something the sandbox forbids, endless recursion, loops over 10 million steps, output over "
        "64 MB), or a template or asset that leads outside the show folder, is no regular file, or (an asset) "
        "weighs over 50 MB. Reported at the template's file and line.",
        "Fix the template, or remove it to use the shipped one; copy files into the show instead of linking them.",
    ),
    (
        "template-asset-replaces",
        "warning",
        "A file of `templates/assets/` has the name of an image entretiens makes (`artwork.jpg`, `icon.png`, "
        "`episodes/<slug>.jpg`) and replaces it.",
        "Remove it to publish the generated image, or keep it on purpose.",
    ),
    (
        "tagging-chapter-limit",
        "warning",
        "More than 255 chapters with `tag_audio`: ID3 and MP4 chapter lists count their entries in one byte, so "
        "the tagged audio holds the first 255 (the JSON chapters file holds them all).",
        "Merge chapters to keep 255 or fewer.",
    ),
)
