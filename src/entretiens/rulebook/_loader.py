"""The rules of the loader and the pipeline: id, severity, what triggers it, how to fix it.

Rows of :data:`entretiens.rulebook.RULES` for the section "Rules of the loader and the
pipeline" of ``docs/rules.md``: what reading the show folder (YAML, paths, URLs, GUIDs, audio,
transcripts, templates) can report, apart from the checks on the show in ``_show.py``, as they
are as many rows again. The summaries and fixes are written for people and copied as they are
into the docs.
"""

from __future__ import annotations

from entretiens.rulebook._model import Row

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
