"""The table of corpus sources: add one here (a Debian package, or a generator with its license note)."""

from __future__ import annotations

from .core import Context, Source
from .music import fluidsynth_clips
from .packages import extracted_root, license_note
from .signals import signal_clips
from .speech import espeak_clips

SOURCES = [
    # speech: telephone prompts in five languages and two community prompt sets
    Source("asterisk-core-sounds-en-wav", "speech", package="asterisk-core-sounds-en-wav"),
    Source("asterisk-core-sounds-es-wav", "speech", package="asterisk-core-sounds-es-wav"),
    Source("asterisk-core-sounds-fr-wav", "speech", package="asterisk-core-sounds-fr-wav"),
    Source("asterisk-core-sounds-it-wav", "speech", package="asterisk-core-sounds-it-wav"),
    Source("asterisk-core-sounds-ru-wav", "speech", package="asterisk-core-sounds-ru-wav"),
    Source("asterisk-prompt-es-co", "speech", package="asterisk-prompt-es-co", quick=True),
    Source("asterisk-prompt-fr-armelle", "speech", package="asterisk-prompt-fr-armelle"),
    Source("ktuberling-data", "speech", package="ktuberling-data"),     # spoken words, 26 languages
    Source("gcin-voice", "speech", package="gcin-voice", max_seconds=1800),  # Mandarin syllables
    # music
    Source("asterisk-moh-opsound-wav", "music", package="asterisk-moh-opsound-wav"),
    Source("asc-music", "music", package="asc-music"),
    Source("drascula-music", "music", package="drascula-music", max_seconds=3600),
    Source("wesnoth-1.16-music", "music", package="wesnoth-1.16-music", max_seconds=3600),
    Source("frozen-bubble-data", "sfx", package="frozen-bubble-data"),
    # game sound effects (their music and voice folders get those categories)
    Source("bzflag-data", "sfx", package="bzflag-data"),
    Source("chromium-bsu-data", "sfx", package="chromium-bsu-data"),
    Source("colobot-common-sounds", "sfx", package="colobot-common-sounds"),
    Source("extremetuxracer-data", "sfx", package="extremetuxracer-data"),
    Source("hedgewars-data", "sfx", package="hedgewars-data"),
    Source("heroes-sound-effects", "sfx", package="heroes-sound-effects", quick=True),
    Source("minetest-data", "sfx", package="minetest-data"),
    Source("openarena-data", "sfx", package="openarena-data"),
    Source("pingus-data", "sfx", package="pingus-data"),
    Source("supertux-data", "sfx", package="supertux-data"),
    Source("teeworlds-data", "sfx", package="teeworlds-data"),
    Source("tuxtype-data", "sfx", package="tuxtype-data"),
    # added for the second model (animals, farm and craft work, weapons, magic, city noise)
    Source("widelands-data", "sfx", package="widelands-data", max_seconds=3600, pinned_split="train"),
    Source("megaglest-data", "sfx", package="megaglest-data", max_seconds=3600, pinned_split="train"),
    Source("wesnoth-1.16-data", "sfx", package="wesnoth-1.16-data", pinned_split="train"),
    Source("lincity-ng-data", "sfx", package="lincity-ng-data", pinned_split="train"),
    Source("tuxpaint-data", "sfx", package="tuxpaint-data", pinned_split="train"),
    # added for the third model: real recordings of animals, weather, water, vehicles, engines,
    # tools, crowds and instruments (whose file names say so: training/data/named_sounds.tsv)
    Source("0ad-data", "sfx", package="0ad-data", skip=r"/audio/music/", pinned_split="train"),
    Source("lugaru-data", "sfx", package="lugaru-data", skip=r"/Music", pinned_split="train"),
    Source("etw-data", "sfx", package="etw-data", pinned_split="train"),
    Source("searchandrescue-data", "sfx", package="searchandrescue-data", pinned_split="train"),
    Source("scorched3d-data", "sfx", package="scorched3d-data", skip=r"/music/", pinned_split="train"),
    Source("triplea", "sfx", package="triplea", pinned_split="train"),
    Source("torcs-data", "sfx", package="torcs-data", max_seconds=1800, pinned_split="train"),
    Source("sonic-pi-samples", "music", package="sonic-pi-samples", pinned_split="train"),
    Source("simutrans-pak64", "sfx", package="simutrans-pak64", pinned_split="train"),
    # GCompris: farm animals, instruments, rain, frogs, applause, a train, engines (audio inside its
    # Qt .rcc resource files; the Debian package has no voice folders, 136 files, 14 minutes)
    Source("gcompris-qt-data", "sfx", package="gcompris-qt-data", pinned_split="train"),
    # drum and instrument samples
    Source("hydrogen-drumkits", "drums", package="hydrogen-drumkits"),
    Source("hydrogen-drumkits-effects", "music", package="hydrogen-drumkits-effects"),
    # desktop sound themes: bells, chimes, ringtones
    Source("sound-theme-freedesktop", "notification", package="sound-theme-freedesktop", quick=True),
    Source("gnome-audio", "notification", package="gnome-audio"),
    Source("oxygen-sounds", "notification", package="oxygen-sounds"),
    Source("deepin-sound-theme", "notification", package="deepin-sound-theme"),
    Source("lomiri-sounds", "notification", package="lomiri-sounds"),
    Source("eiskaltdcpp-sounds", "notification", package="eiskaltdcpp-sounds"),
    # generators
    Source("espeak-ng", "speech", generate=espeak_clips, quick=True),
    Source("fluidsynth", "music", generate=fluidsynth_clips, quick=True),
    Source("signals", "signal", generate=signal_clips, quick=True),
]
MIXTURE_SOURCE = Source("mixtures", "mixture", quick=True)
SCENE_SOURCE = Source("scenes", "scene", quick=True)


def license_for(ctx: Context, source: Source) -> str:
    if source.package:
        return license_note(extracted_root(ctx, source.package), source.package)
    return {"espeak-ng": "generated with espeak-ng (GPL-3+); the output is not covered",
            "fluidsynth": "rendered with fluidsynth from FluidR3 GM (MIT) and TimGM6mb (GPL-2) soundfonts",
            "signals": "generated (numpy)"}[source.name]
