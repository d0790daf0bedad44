"""Tests of the caption formats: WebVTT, SubRip and JSON transcripts, read and written."""

from __future__ import annotations

import json
import subprocess

import pytest

from audiogen import require_tool
from entretiens.captions import (
    Cue,
    Run,
    Span,
    TranscriptError,
    clock,
    decode,
    parse,
    parse_json,
    parse_srt,
    parse_vtt,
    segment_lines,
    write_json,
    write_srt,
    write_vtt,
)
from podcast20_specs import json_transcript_errors

VTT = """WEBVTT - Entretien
Kind: captions
Language: fr

STYLE
::cue { color: yellow }

NOTE Relu le 3 mars,
sur deux lignes.

intro
00:00.500 --> 00:03.250 align:start position:10%
<v.host Anne Hôte>Bonjour &amp; <i>bienvenue</i></v>
<v Bob>Merci <c.loud>Anne</c>, <00:02.000>ravi

2
01:00:04.000 --> 01:00:06.000
&lt;b&gt; n'est pas du gras
"""

SRT = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> & <font color=red>you</font>\r\n\r\n"
    "2\r\n00:00:03.000 --> 00:00:04,000 X1:10 X2:20\r\n{\\an8}a < b\r\n"
)


def test_vtt_cues_keep_times_voices_and_styles() -> None:
    cues = parse_vtt(VTT)

    assert [(cue.start, cue.end, cue.line) for cue in cues] == [(0.5, 3.25, 12), (3604.0, 3606.0, 17)]
    assert cues[0].runs == (
        Run("Anne Hôte", (Span("Bonjour & "), Span("bienvenue", frozenset({"i"})))),
        Run("Bob", (Span("Merci Anne, ravi"),)),
    )
    assert cues[1].text == "<b> n'est pas du gras"


def test_vtt_cue_right_under_the_header_counts() -> None:
    cues = parse_vtt("WEBVTT\n00:01.000 --> 00:02.000\nVite\n")

    assert [(cue.start, cue.text, cue.line) for cue in cues] == [(1.0, "Vite", 2)]


def test_srt_cues_with_bom_crlf_and_dot_separator() -> None:
    cues = parse(".srt", SRT.encode("utf-8"))

    assert cues is not None
    assert [(cue.start, cue.end, cue.line) for cue in cues] == [(1.0, 2.5, 2), (3.0, 4.0, 6)]
    assert cues[0].runs == (Run(None, (Span("Hello", frozenset({"i"})), Span(" & you"))),)
    assert cues[1].text == "a < b"


def test_json_transcript_segments() -> None:
    text = json.dumps(
        {
            "version": "1.0.0",
            "segments": [
                {"speaker": "Anne", "startTime": 0.5, "endTime": 1.5, "body": "Bonjour"},
                {"startTime": 2, "endTime": 3, "body": "Merci"},
            ],
        }
    )

    cues = parse_json(text)

    assert cues == (
        Cue(start=0.5, end=1.5, runs=(Run("Anne", (Span("Bonjour"),)),)),
        Cue(start=2.0, end=3.0, runs=(Run(None, (Span("Merci"),)),)),
    )


@pytest.mark.parametrize(
    ("suffix", "text", "line", "message"),
    [
        (".vtt", "WEBVT\n\n00:01.000 --> 00:02.000\nx\n", 1, "must start with the line WEBVTT"),
        (".vtt", "WEBVTT\n\n00:01.00 --> 00:02.000\nx\n", 3, "malformed cue timing '00:01.00 --> 00:02.000'"),
        (".vtt", "WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", 3, "malformed cue timing"),
        (".vtt", "WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", 3, "malformed cue timing '00:01.000 -> 00:02.000'"),
        (".vtt", "WEBVTT\n\nintro\n00:01.000 - 00:02.000\nx\n", 4, "malformed cue timing"),
        (".vtt", "WEBVTT\n\n1\n00:01.000 --> 00:02.000\nx\n\ncontinued\n", 7, "expected a cue timing line"),
        (".vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n00:03.000 --> 00:04.000\ny\n", 5, "cannot contain '-->'"),
        (".vtt", "WEBVTT\n\nNOTE only a comment\n", None, "has no cue"),
        (".srt", "1\n00:00:01,000 --> 00:00:02,000\nx\n\nsuite\n", 5, "expected a cue number, found 'suite'"),
        (".srt", "1\n00:00:01,00 --> 00:00:02,000\nx\n", 2, "malformed cue timing"),
        (".srt", "1\n", 2, "malformed cue timing: nothing"),
        (".srt", "\n\n", None, "has no cue"),
        (".json", '{"version": "1.0.0",\n "segments": [\n  {"startTime": 1,}\n ]}', 3, "invalid JSON"),
        (".json", '{"segments": []}', 1, "`version` string"),
        (".json", '{"version": "1.0.0", "segs": []}', 1, "`segments` list"),
        (".json", '{"version": "1.0.0",\n"segments": [\n{"startTime": 0, "endTime": 1, "body": "a"},\n'
         '{"startTime": "2", "endTime": 3, "body": "b"}]}', 4, "segments[1]: `startTime` must be a number"),
        (".json", '{"version": "1.0.0", "segments": [{"startTime": 0, "endTime": 1}]}', 1, "`body` must be a string"),
        (".txt", "  \n", None, "the transcript is empty"),
    ],
)  # fmt: skip
def test_syntax_errors_name_the_line(suffix: str, text: str, line: int | None, message: str) -> None:
    with pytest.raises(TranscriptError) as caught:
        parse(suffix, text.encode("utf-8"))

    assert caught.value.rule == "transcript-syntax"
    assert caught.value.line == line
    assert message in caught.value.message
    assert caught.value.hint


def test_encoding_errors_name_the_line() -> None:
    latin1 = "WEBVTT\n\n00:01.000 --> 00:02.000\nCafé\n".encode("latin-1")

    with pytest.raises(TranscriptError) as caught:
        parse(".vtt", latin1)

    assert (caught.value.rule, caught.value.line) == ("transcript-encoding", 4)
    assert "not UTF-8" in caught.value.message


def test_utf16_is_refused_with_its_name() -> None:
    with pytest.raises(TranscriptError, match="UTF-16") as caught:
        decode("WEBVTT\n".encode("utf-16"))

    assert caught.value.rule == "transcript-encoding"


def test_segment_lines_skip_objects_nested_elsewhere() -> None:
    text = (
        '{\n  "meta": {"a": {"b": 1}},\n  "version": "1.0.0",\n  "segments": [\n'
        '    {"startTime": 0, "endTime": 1, "body": "a", "extra": {"x": {}}},\n'
        '    "not an object",\n'
        '    {"startTime": 1, "endTime": 2, "body": "b"}\n  ]\n}'
    )

    assert segment_lines(text) == {0: 5, 2: 7}


def test_segment_lines_read_brackets_inside_strings_as_text() -> None:
    text = (
        '{"version": "1.0.0", "note": "a } and a [ \\" {",\n "segments": [\n'
        '  {"startTime": 0, "endTime": 1, "body": "{[\\"]}, "},\n\n'
        '  {"startTime": 1, "endTime": 2, "body": "b"}]}'
    )
    assert len(json.loads(text)["segments"]) == 2
    assert segment_lines(text) == {0: 3, 1: 5}
    # A JSON reader keeps the last of two equal keys, and so do the lines.
    twice = '{"segments": [{"a": 1}],\n"segments": [1,\n{"b": 2}]}'
    assert segment_lines(twice) == {1: 3}


def test_vtt_written_from_srt_escapes_text_and_keeps_styles() -> None:
    cues = parse_srt(decode(SRT.encode("utf-8")))

    written = write_vtt(cues).decode("utf-8")

    assert written.split("\n\n") == [
        "WEBVTT",
        "00:00:01.000 --> 00:00:02.500\n<i>Hello</i> &amp; you",
        "00:00:03.000 --> 00:00:04.000\na &lt; b\n",
    ]
    assert [(c.start, c.end, c.runs) for c in parse_vtt(written)] == [(c.start, c.end, c.runs) for c in cues]


def test_srt_written_from_vtt_names_speakers_when_they_change() -> None:
    cues = parse_vtt(VTT)

    written = write_srt(cues).decode("utf-8")

    assert written == (
        "1\n00:00:00,500 --> 00:00:03,250\nAnne Hôte: Bonjour & <i>bienvenue</i>\nBob: Merci Anne, ravi\n\n"
        "2\n01:00:04,000 --> 01:00:06,000\n<b> n'est pas du gras\n"
    )
    assert [(c.start, c.end) for c in parse_srt(written)] == [(c.start, c.end) for c in cues]


def test_vtt_round_trip_keeps_voices() -> None:
    cues = parse_vtt(VTT)

    again = parse_vtt(write_vtt(cues).decode("utf-8"))

    assert [(c.start, c.end, c.runs) for c in again] == [(c.start, c.end, c.runs) for c in cues]


def test_json_written_from_vtt_maps_voices_to_speakers() -> None:
    document = json.loads(write_json(parse_vtt(VTT)))

    assert json_transcript_errors(document) == []
    assert document == {
        "version": "1.0.0",
        "segments": [
            {"speaker": "Anne Hôte", "startTime": 0.5, "endTime": 3.25, "body": "Bonjour & bienvenue"},
            {"speaker": "Bob", "startTime": 0.5, "endTime": 3.25, "body": "Merci Anne, ravi"},
            {"startTime": 3604, "endTime": 3606, "body": "<b> n'est pas du gras"},
        ],
    }


def test_empty_cues_are_left_out_of_conversions() -> None:
    cues = parse_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\n\n00:03.000 --> 00:04.000\nTexte\n")

    assert write_srt(cues).decode() == "1\n00:00:03,000 --> 00:00:04,000\nTexte\n"
    assert json.loads(write_json(cues))["segments"] == [{"startTime": 3, "endTime": 4, "body": "Texte"}]


def test_clock_rounds_to_milliseconds() -> None:
    assert clock(3725.0006) == "01:02:05.001"
    assert clock(0) == "00:00:00.000"


def test_ffmpeg_reads_the_written_captions(tmp_path: pytest.TempPathFactory) -> None:
    ffprobe = require_tool("ffprobe")
    cues = parse_vtt(VTT)
    for name, data in (("out.vtt", write_vtt(cues)), ("out.srt", write_srt(cues))):
        path = tmp_path / name  # type: ignore[operator]
        path.write_bytes(data)
        result = subprocess.run(
            [ffprobe, "-v", "error", "-show_packets", "-of", "json", str(path)],
            check=True,
            capture_output=True,
        )
        packets = json.loads(result.stdout)["packets"]
        assert [(float(p["pts_time"]), float(p["duration_time"])) for p in packets] == [(0.5, 2.75), (3604.0, 2.0)]
