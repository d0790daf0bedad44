"""Tests of transcripts: which files an episode publishes, their checks against the audio, the conversions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from lxml import etree

from entretiens import audio, transcripts
from entretiens.captions import parse_srt, parse_vtt
from entretiens.errors import ProblemsError
from entretiens.loading import load_project
from entretiens.model import AudioInfo, Episode, PublishedTranscript, Release
from entretiens.publish import publish
from podcast20_specs import json_transcript_errors
from showbuilder import BASE_URL, episode, make_show, tree

NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)
NS = {"podcast": "https://podcastindex.org/namespace/1.0"}

VTT = (
    "WEBVTT\n\n"
    "00:00.500 --> 00:02.000\n<v Alex Host>Welcome to the show.\n\n"
    "00:02.500 --> 00:04.000\n<v Guest 1>Thank you, Alex.\n"
)
SRT = "1\n00:00:00,500 --> 00:00:02,000\nWelcome to the show.\n\n2\n00:00:02,500 --> 00:00:04,000\nThank you.\n"


def _show(tmp_path: Path, transcript: Any, files: dict[str, str | bytes], seconds: float = 5.0) -> Path:
    root = tmp_path / "show"
    for name, content in files.items():
        path = root / "transcripts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return make_show(root, {"001-first": episode(1, transcript=transcript)}, seconds=seconds)


def _episode(root: Path) -> tuple[Episode, AudioInfo]:
    project = load_project(root)
    first = project.episodes[0]
    return first, audio.probe(root / first.audio)


def test_a_vtt_file_also_goes_out_as_srt_and_json(tmp_path: Path) -> None:
    root = _show(tmp_path, "transcripts/first.vtt", {"first.vtt": VTT})
    first, info = _episode(root)

    published, problems = transcripts.plan(first, info)

    assert problems == []
    assert published == (
        PublishedTranscript(path="001-first/transcript.vtt", mime_type="text/vtt", language="en", rel="captions"),
        PublishedTranscript(
            path="001-first/transcript.srt", mime_type="application/x-subrip", language="en", rel="captions"
        ),
        PublishedTranscript(path="001-first/transcript.json", mime_type="application/json", language="en"),
    )


def test_files_copy_the_original_and_convert_the_others(tmp_path: Path) -> None:
    original = VTT.replace("\n", "\r\n").encode("utf-8")
    root = _show(tmp_path, "transcripts/first.vtt", {"first.vtt": original})
    first, info = _episode(root)
    published, _ = transcripts.plan(first, info)
    project = load_project(root)

    files = transcripts.files(
        project.show, Release(episode=first, audio=info, transcripts=published, enclosure_length=info.size)
    )

    assert set(files) == {PurePosixPath(f"001-first/transcript.{ext}") for ext in ("vtt", "srt", "json")}
    assert files[PurePosixPath("001-first/transcript.vtt")] == original
    srt = parse_srt(files[PurePosixPath("001-first/transcript.srt")].decode("utf-8"))
    assert [(c.start, c.end, c.text) for c in srt] == [
        (0.5, 2.0, "Alex Host: Welcome to the show."),
        (2.5, 4.0, "Guest 1: Thank you, Alex."),
    ]
    document = json.loads(files[PurePosixPath("001-first/transcript.json")])
    assert json_transcript_errors(document) == []
    assert [(s["speaker"], s["startTime"], s["body"]) for s in document["segments"]] == [
        ("Alex Host", 0.5, "Welcome to the show."),
        ("Guest 1", 2.5, "Thank you, Alex."),
    ]


def test_an_srt_file_also_goes_out_as_vtt_and_json(tmp_path: Path) -> None:
    root = _show(tmp_path, [{"file": "transcripts/first.srt", "language": "fr"}], {"first.srt": SRT})
    first, info = _episode(root)
    published, problems = transcripts.plan(first, info)
    project = load_project(root)

    files = transcripts.files(
        project.show, Release(episode=first, audio=info, transcripts=published, enclosure_length=info.size)
    )

    assert problems == []
    assert [(p.path, p.language) for p in published] == [
        ("001-first/transcript.srt", "fr"),
        ("001-first/transcript.vtt", "fr"),
        ("001-first/transcript.json", "fr"),
    ]
    vtt = parse_vtt(files[PurePosixPath("001-first/transcript.vtt")].decode("utf-8"))
    assert [(c.start, c.end, c.text) for c in vtt] == [(0.5, 2.0, "Welcome to the show."), (2.5, 4.0, "Thank you.")]


def test_a_format_given_by_the_author_is_not_generated(tmp_path: Path) -> None:
    own_srt = SRT.replace("Thank you.", "Merci.")
    root = _show(
        tmp_path,
        ["transcripts/first.vtt", "transcripts/first.srt", {"file": "transcripts/first.html", "language": "fr"}],
        {"first.vtt": VTT, "first.srt": own_srt, "first.html": "<p>Bienvenue.</p>"},
    )
    first, info = _episode(root)
    published, problems = transcripts.plan(first, info)
    project = load_project(root)

    files = transcripts.files(
        project.show, Release(episode=first, audio=info, transcripts=published, enclosure_length=info.size)
    )

    assert problems == []
    assert [(p.path, p.rel) for p in published] == [
        ("001-first/transcript.en.vtt", "captions"),
        ("001-first/transcript.en.srt", "captions"),
        ("001-first/transcript.fr.html", None),
        ("001-first/transcript.en.json", None),
    ]
    assert files[PurePosixPath("001-first/transcript.en.srt")] == own_srt.encode("utf-8")
    # HTML is published cleaned (see test_an_html_transcript_is_published_without_scripts).
    assert b"<p>Bienvenue.</p>" in files[PurePosixPath("001-first/transcript.fr.html")]


def test_two_transcripts_of_one_format_and_language_are_an_error(tmp_path: Path) -> None:
    root = _show(tmp_path, ["transcripts/a.vtt", "transcripts/b.vtt"], {"a.vtt": VTT, "b.vtt": VTT})
    first, info = _episode(root)

    _, problems = transcripts.plan(first, info)

    assert [(p.rule, p.field, p.path) for p in problems] == [("transcript-duplicate", "transcript", first.path)]


@pytest.mark.parametrize(
    ("name", "content", "line", "message"),
    [
        ("t.vtt", VTT.replace("00:02.500 --> 00:04.000", "00:04.500 --> 00:04.000"), 6,
         "the cue ends (00:00:04.000) before it starts (00:00:04.500)"),
        ("t.vtt", VTT.replace("00:02.500 --> 00:04.000", "00:00.200 --> 00:04.000"), 6,
         "the cue starts at 00:00:00.200, before the previous one (00:00:00.500)"),
        ("t.vtt", VTT.replace("00:02.500 --> 00:04.000", "00:02.500 --> 00:07.100"), 6,
         "the cue ends at 00:00:07.100, after the end of the audio (00:00:04.989)"),
        ("t.srt", SRT.replace("00:00:02,500 --> 00:00:04,000", "00:00:02,500 --> 00:01:00,000"), 6,
         "the cue ends at 00:01:00.000, after the end of the audio (00:00:04.989)"),
        ("t.json", '{"version": "1.0.0", "segments": [\n{"startTime": 1, "endTime": 2, "body": "a"},\n'
         '{"startTime": 3, "endTime": 9, "body": "b"}]}', 3,
         "the cue ends at 00:00:09.000, after the end of the audio (00:00:04.989)"),
    ],
)  # fmt: skip
def test_timing_errors_name_the_file_and_line(tmp_path: Path, name: str, content: str, line: int, message: str) -> None:
    root = _show(tmp_path, f"transcripts/{name}", {name: content})
    first, info = _episode(root)

    published, problems = transcripts.plan(first, info)

    assert [(p.rule, p.path, p.line, p.message) for p in problems] == [
        ("transcript-timing", root / "transcripts" / name, line, message)
    ]
    assert published  # Timing errors stop the publish, but the file itself was readable.


def test_cues_may_run_a_little_past_the_end(tmp_path: Path) -> None:
    late = VTT.replace("00:02.500 --> 00:04.000", "00:02.500 --> 00:06.900")
    root = _show(tmp_path, "transcripts/t.vtt", {"t.vtt": late})
    first, info = _episode(root)

    assert transcripts.plan(first, info)[1] == []


def test_many_timing_errors_are_summed_up(tmp_path: Path) -> None:
    cues = "".join(f"00:00:0{n}.000 --> 00:00:09.000\nCue {n}\n\n" for n in range(8))
    root = _show(tmp_path, "transcripts/t.vtt", {"t.vtt": "WEBVTT\n\n" + cues})
    first, info = _episode(root)

    _, problems = transcripts.plan(first, info)

    assert [p.line for p in problems] == [3, 6, 9, 12, 15, None]
    assert problems[-1].message == "3 more timing errors in this file"


def test_syntax_and_encoding_errors_name_the_file_and_line(tmp_path: Path) -> None:
    broken = "WEBVTT\n\n00:00.500 --> 00:02,000\nHello\n"
    root = _show(
        tmp_path,
        ["transcripts/a.vtt", {"file": "transcripts/b.srt", "language": "fr"}],
        {"a.vtt": broken, "b.srt": SRT.replace("Thank", "Caf\xe9").encode("latin-1")},
    )
    first, info = _episode(root)

    published, problems = transcripts.plan(first, info)

    assert [(p.rule, p.path.name if p.path else None, p.line) for p in problems] == [
        ("transcript-syntax", "a.vtt", 3),
        ("transcript-encoding", "b.srt", 7),
    ]
    assert published == ()


def test_publish_links_every_transcript_and_clients_see_them(tmp_path: Path) -> None:
    root = _show(tmp_path, "transcripts/first.vtt", {"first.vtt": VTT})
    out = tmp_path / "public"

    publish(root, out, now=NOW)

    item = etree.fromstring((out / "feed.xml").read_bytes()).find("channel/item")
    assert item is not None
    tags = [dict(tag.attrib) for tag in item.findall("podcast:transcript", NS)]
    assert tags == [
        {"url": BASE_URL + "001-first/transcript.vtt", "type": "text/vtt", "language": "en", "rel": "captions"},
        {
            "url": BASE_URL + "001-first/transcript.srt",
            "type": "application/x-subrip",
            "language": "en",
            "rel": "captions",
        },
        {"url": BASE_URL + "001-first/transcript.json", "type": "application/json", "language": "en"},
    ]
    for tag in tags:
        assert (out / tag["url"].removeprefix(BASE_URL)).is_file()
    assert (out / "001-first" / "transcript.vtt").read_text(encoding="utf-8") == VTT


def test_a_bad_transcript_stops_the_publish_and_keeps_the_old_output(tmp_path: Path) -> None:
    root = _show(tmp_path, "transcripts/first.vtt", {"first.vtt": VTT})
    out = tmp_path / "public"
    publish(root, out, now=NOW)
    before = tree(out)
    (root / "transcripts" / "first.vtt").write_text(VTT.replace("00:02.500", "00:02.5"), encoding="utf-8")

    with pytest.raises(ProblemsError) as caught:
        publish(root, out, now=NOW)

    assert "transcripts/first.vtt:6: malformed cue timing '00:02.5 --> 00:04.000'" in str(caught.value)
    assert tree(out) == before


def test_an_html_transcript_is_published_without_scripts(tmp_path: Path) -> None:
    import lxml.html

    from entretiens.publish import publish
    from showbuilder import episode, make_show

    root = make_show(tmp_path / "show", {"001-a": episode(1, transcript="transcripts/001.html")})
    (root / "transcripts").mkdir()
    (root / "transcripts" / "001.html").write_text(
        '<html><body><p onclick="steal()">Bonjour <b>à tous</b></p><script>steal()</script>'
        '<a href="javascript:steal()">x</a></body></html>',
        encoding="utf-8",
    )
    publish(root, tmp_path / "out")
    page = lxml.html.fromstring((tmp_path / "out" / "001-a" / "transcript.html").read_bytes())
    assert page.text_content().strip().startswith("Bonjour à tous")
    assert not page.xpath("//script | //*[@onclick] | //a[starts-with(@href, 'javascript')]")


def test_an_episode_without_transcripts_plans_nothing_and_works_out_no_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Most episodes of a large show: planned on every build, 10,000 show folders worked out.
    def refused(_path: Path) -> Path:
        raise AssertionError("no path to work out")

    monkeypatch.setattr(transcripts, "show_root", refused)
    plain = Episode(slug="a", path=Path("/show/episodes/a.yaml"), title="A", date=datetime.now(timezone.utc), audio="")
    info = AudioInfo(size=1, duration=timedelta(seconds=1), mime_type="audio/mpeg", duration_method="header")
    assert transcripts.plan(plain, info) == ((), [])
