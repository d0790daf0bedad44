#!/usr/bin/env node
// Parse one podcast feed with podcast-partytime (the Podcast Index parser) and print,
// as one line of JSON on stdout, what it read.
//
// Usage: node partytime.cjs FEED.xml      (or: node partytime.cjs < FEED.xml)
//        node partytime.cjs --raw FEED.xml  prints partytime's own object instead.
//
// Exit status: 0 printed; 3 partytime rejected the document (it returned null, for invalid
// XML or no <rss><channel>, or it threw); 2 bad usage or unreadable file; 1 a bug here.
//
// Output keys are stable; every key is always present (null or [] when partytime gave
// nothing). On the left our key, on the right the partytime field it comes from.
//
//   client                 {name: "podcast-partytime", version}
//   title                  title
//   link                   link
//   language               language (null if absent)
//   guid                   guid                       <podcast:guid>
//   locked                 locked (true/false)        <podcast:locked>; null when partytime
//                                                     ignored the tag (it needs owner=)
//   locked_owner           podcastOwner               <podcast:locked owner>
//   owner                  owner {name, email}        <itunes:owner>
//   author                 author                     <itunes:author>
//   explicit               explicit (boolean)         <itunes:explicit> yes/true -> true
//   itunes_type            itunesType                 "episodic" | "serial" | null
//   itunes_categories      itunesCategory             Apple names, "Parent > Child";
//                                                     unknown categories are dropped
//   categories             categories                 lower-case single words
//   image                  image.url                  <image><url>, else <itunes:image>
//   itunes_image           itunesImage
//   medium                 medium                     <podcast:medium>
//   license                license {identifier, url}  <podcast:license>
//   location               podcastLocation {name, geo, osm}  (first tag only)
//   funding[]              podcastFunding {url, message}
//   persons[]              podcastPeople {name, role, group, href, img}; role and group
//                          come back in taxonomy case ("Guest", "Cast"), unknown -> Host/Cast
//   items[] (partytime's order, which is document order; skipped items are absent)
//     title                title
//     guid                 guid (text of <guid>, isPermaLink ignored)
//     enclosure            {url, length, type}
//     duration             duration (seconds, may be fractional; 0 when absent)
//     pub_date             pubDate as ISO 8601 UTC string, or null
//     pub_date_epoch       the same in whole epoch seconds, or null
//     explicit             explicit (boolean)
//     episode_type         itunesEpisodeType
//     itunes_episode       itunesEpisode
//     itunes_season        itunesSeason
//     podcast_episode      podcastEpisode {number, display}
//     podcast_season       podcastSeason {number, name}
//     persons[]            podcastPeople, as above
//     transcripts[]        podcastTranscripts {url, type, language, rel}
//     chapters             podcastChapters {url, type}
//     soundbites[]         podcastSoundbites {start_time, duration, title}
//     funding[]            podcastFunding {url, message} (partytime 5 reads none on items)
//     license              license {identifier, url}
//     location             podcastLocation {name, geo, osm}
//     image                image (<image><url>, else <itunes:image href>)
//     itunes_image         itunesImage
//     link                 link
"use strict";

const fs = require("node:fs");
const path = require("node:path");

// partytime logs through pino to stdout; keep stdout for our JSON unless asked otherwise.
process.env.PARTYTIME_LOG = process.env.PARTYTIME_LOG || "silent";

const { parseFeed } = require("podcast-partytime");

function partytimeVersion() {
  const manifest = path.join(path.dirname(require.resolve("podcast-partytime")), "..", "package.json");
  return JSON.parse(fs.readFileSync(manifest, "utf8")).version;
}

function orNull(value) {
  return value === undefined ? null : value;
}

function pick(object, keys) {
  if (!object) {
    return null;
  }
  const out = {};
  for (const key of keys) {
    out[key] = orNull(object[key]);
  }
  return out;
}

function isoDate(value) {
  if (!value) {
    return null;
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function epochSeconds(value) {
  const iso = isoDate(value);
  return iso === null ? null : Math.floor(Date.parse(iso) / 1000);
}

function persons(list) {
  return (list || []).map((p) => pick(p, ["name", "role", "group", "href", "img"]));
}

function funding(list) {
  return (list || []).map((f) => pick(f, ["url", "message"]));
}

function location(value) {
  return pick(value, ["name", "geo", "osm"]);
}

function license(value) {
  return pick(value, ["identifier", "url"]);
}

function item(raw) {
  return {
    title: orNull(raw.title),
    guid: orNull(raw.guid),
    enclosure: pick(raw.enclosure, ["url", "length", "type"]),
    duration: orNull(raw.duration),
    pub_date: isoDate(raw.pubDate),
    pub_date_epoch: epochSeconds(raw.pubDate),
    explicit: orNull(raw.explicit),
    episode_type: orNull(raw.itunesEpisodeType),
    itunes_episode: orNull(raw.itunesEpisode),
    itunes_season: orNull(raw.itunesSeason),
    podcast_episode: pick(raw.podcastEpisode, ["number", "display"]),
    podcast_season: pick(raw.podcastSeason, ["number", "name"]),
    persons: persons(raw.podcastPeople),
    transcripts: (raw.podcastTranscripts || []).map((t) => pick(t, ["url", "type", "language", "rel"])),
    chapters: pick(raw.podcastChapters, ["url", "type"]),
    soundbites: (raw.podcastSoundbites || []).map((s) => ({
      start_time: orNull(s.startTime),
      duration: orNull(s.duration),
      title: orNull(s.title),
    })),
    funding: funding(raw.podcastFunding),
    license: license(raw.license),
    location: location(raw.podcastLocation),
    image: orNull(raw.image),
    itunes_image: orNull(raw.itunesImage),
    link: orNull(raw.link),
  };
}

function summary(feed) {
  return {
    client: { name: "podcast-partytime", version: partytimeVersion() },
    title: orNull(feed.title),
    link: orNull(feed.link),
    language: orNull(feed.language),
    guid: orNull(feed.guid),
    locked: orNull(feed.locked),
    locked_owner: orNull(feed.podcastOwner),
    owner: pick(feed.owner, ["name", "email"]),
    author: orNull(feed.author),
    explicit: orNull(feed.explicit),
    itunes_type: orNull(feed.itunesType),
    itunes_categories: feed.itunesCategory || [],
    categories: feed.categories || [],
    image: feed.image ? orNull(feed.image.url) : null,
    itunes_image: orNull(feed.itunesImage),
    medium: orNull(feed.medium),
    license: license(feed.license),
    location: location(feed.podcastLocation),
    funding: funding(feed.podcastFunding),
    persons: persons(feed.podcastPeople),
    items: (feed.items || []).map(item),
  };
}

function readInput(file) {
  const bytes = file === undefined ? fs.readFileSync(0) : fs.readFileSync(file);
  // Feeds are UTF-8 (FEED_RULES 1); TextDecoder also drops a leading BOM, as XML parsers do.
  return new TextDecoder("utf-8").decode(bytes);
}

function main(argv) {
  const raw = argv.includes("--raw");
  const files = argv.filter((a) => a !== "--raw");
  if (files.length > 1 || files.some((a) => a.startsWith("-"))) {
    process.stderr.write("usage: partytime.cjs [--raw] [FEED.xml]\n");
    return 2;
  }
  let xml;
  try {
    xml = readInput(files[0]);
  } catch (err) {
    process.stderr.write(`partytime.cjs: cannot read ${files[0]}: ${err.message}\n`);
    return 2;
  }
  let feed;
  try {
    feed = parseFeed(xml);
  } catch (err) {
    process.stderr.write(`partytime.cjs: podcast-partytime threw: ${err.stack || err}\n`);
    return 3;
  }
  if (!feed) {
    process.stderr.write("partytime.cjs: podcast-partytime could not parse the feed (it returned null)\n");
    return 3;
  }
  process.stdout.write(`${JSON.stringify(raw ? feed : summary(feed))}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
