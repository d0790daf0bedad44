"""The long lists the specs publish: Apple's categories, the person taxonomy, ISO codes, licenses, slugs.

Data written as the lists' owners publish them (Apple, the Podcast Taxonomy Project, ISO 639-1
and 3166-1, the Podcast Index), each in one place; they are most of the spec's lines, so they
live apart from the namespaces and limits, and from the checks that read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a list written as prose."""
    return frozenset(text.split())


#: Apple Podcasts categories since 2019: parent -> subcategories, exact spellings (APPLE-CAT).
APPLE_CATEGORIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
        "Business": (
            "Careers",
            "Entrepreneurship",
            "Investing",
            "Management",
            "Marketing",
            "Non-Profit",
        ),
        "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
        "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
        "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
        "Government": (),
        "History": (),
        "Health & Fitness": (
            "Alternative Health",
            "Fitness",
            "Medicine",
            "Mental Health",
            "Nutrition",
            "Sexuality",
        ),
        "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
        "Leisure": (
            "Animation & Manga",
            "Automotive",
            "Aviation",
            "Crafts",
            "Games",
            "Hobbies",
            "Home & Garden",
            "Video Games",
        ),
        "Music": ("Music Commentary", "Music History", "Music Interviews"),
        "News": (
            "Business News",
            "Daily News",
            "Entertainment News",
            "News Commentary",
            "Politics",
            "Sports News",
            "Tech News",
        ),
        "Religion & Spirituality": (
            "Buddhism",
            "Christianity",
            "Hinduism",
            "Islam",
            "Judaism",
            "Religion",
            "Spirituality",
        ),
        "Science": (
            "Astronomy",
            "Chemistry",
            "Earth Sciences",
            "Life Sciences",
            "Mathematics",
            "Natural Sciences",
            "Nature",
            "Physics",
            "Social Sciences",
        ),
        "Society & Culture": (
            "Documentary",
            "Personal Journals",
            "Philosophy",
            "Places & Travel",
            "Relationships",
        ),
        "Sports": (
            "Baseball",
            "Basketball",
            "Cricket",
            "Fantasy Sports",
            "Football",
            "Golf",
            "Hockey",
            "Rugby",
            "Running",
            "Soccer",
            "Swimming",
            "Tennis",
            "Volleyball",
            "Wilderness",
            "Wrestling",
        ),
        "Technology": (),
        "True Crime": (),
        "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
    }
)


#: Podcast Taxonomy Project: group -> roles, lower case as ``podcast:person`` compares them.
PERSON_TAXONOMY: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "creative direction": (
            "director",
            "assistant director",
            "executive producer",
            "senior producer",
            "producer",
            "associate producer",
            "development producer",
            "creative director",
        ),
        "cast": (
            "host",
            "co-host",
            "guest host",
            "guest",
            "voice actor",
            "narrator",
            "announcer",
            "reporter",
        ),
        "writing": (
            "author",
            "editorial director",
            "co-writer",
            "writer",
            "songwriter",
            "guest writer",
            "story editor",
            "managing editor",
            "script editor",
            "script coordinator",
            "researcher",
            "editor",
            "fact checker",
            "translator",
            "transcriber",
            "logger",
        ),
        "audio production": (
            "studio coordinator",
            "technical director",
            "technical manager",
            "audio engineer",
            "remote recording engineer",
            "post production engineer",
        ),
        "audio post-production": (
            "audio editor",
            "sound designer",
            "foley artist",
            "composer",
            "theme music",
            "music production",
            "music contributor",
        ),
        "administration": (
            "production coordinator",
            "booking coordinator",
            "production assistant",
            "content manager",
            "marketing manager",
            "sales representative",
            "sales manager",
        ),
        "visuals": ("graphic designer", "cover art designer"),
        "community": ("social media manager",),
        "misc.": ("consultant", "intern"),
        "video production": (
            "camera operator",
            "lighting designer",
            "camera grip",
            "assistant camera",
        ),
        "video post-production": ("editor", "assistant editor"),
    }
)


#: ISO 639-1 two-letter language codes (the whole list, as ISO 639-2 maps them).
LANGUAGE_CODES = _words("""
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
    hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
    lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
    or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
    ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """)


#: ISO 3166-1 alpha-2 country codes, upper case.
COUNTRY_CODES = _words("""
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
    """)


#: License identifiers of the Podcast Index list (``docs/examples/license/licenses.json``).
PODCAST_INDEX_LICENSES: tuple[str, ...] = (
    "ARR",
    "CC-BY-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-ND-4.0",
    "POD-V4V-1.0",
)


#: Used when the ``packaging`` library is too old to know the SPDX list: the licenses podcasts use.
FALLBACK_SPDX = frozenset(
    name.lower()
    for name in (
        *(
            f"CC-{kind}-{version}"
            for kind in ("BY", "BY-SA", "BY-ND", "BY-NC", "BY-NC-SA", "BY-NC-ND")
            for version in ("1.0", "2.0", "2.5", "3.0", "4.0")
        ),
        "CC0-1.0",
        "CC-PDDC",
        "CC-PDM-1.0",
        "MIT",
        "Apache-2.0",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "FAL-1.3",
        "ODbL-1.0",
    )
)


#: ``podcast:block id`` values (``serviceslugs.txt``).
SERVICE_SLUGS = _words("""
    acast amazon anchor apple audible audioboom backtracks bitcoin blubrry buzzsprout captivate
    castos castopod facebook fireside fyyd google gpodder hypercatcher kasts libsyn mastodon
    megafono megaphone omnystudio overcast paypal pinecast podbean podcastaddict podcastguru
    podcastindex podcasts podchaser podcloud podfriend podiant podigee podnews podomatic podserve
    podverse redcircle relay resonaterecordings rss shoutengine simplecast slack soundcloud spotify
    spreaker tiktok transistor twitter whooshkaa youtube zencast
    """)


#: ``podcast:socialInteract protocol`` values (``socialprotocols.txt``).
SOCIAL_PROTOCOLS = frozenset(("disabled", "activitypub", "twitter", "lightning", "atproto", "hive", "matrix", "nostr"))


#: ``podcast:chat protocol`` values (``docs/chatprotocols.txt``).
CHAT_PROTOCOLS = frozenset(("irc", "xmpp", "nostr", "matrix"))
