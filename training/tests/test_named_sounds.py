"""The named-sounds tables: their loader's errors, the yardstick rule, and the shipped tables."""

import pytest

from mast_tagger import named_sounds as N
from mast_tagger.corpus.generated_names import DRUM_KIT_CLASSES, GM_PROGRAM_CLASSES, SIGNAL_CLASSES
from mast_tagger.teacher import read_class_map

CLASSES = ["Dog", "Bark", "Cattle, bovinae", "Moo", "Animal", "Domestic animals, pets"]


def write(tmp_path, text):
    path = tmp_path / "table.tsv"
    path.write_text(text)
    return path


def test_rows_and_first_match_wins(tmp_path):
    rows = N.read_rows(write(tmp_path, "# comment\npkg\t*/dog_bark*.ogg\tBark;Dog\npkg\t*/dog*\tDog\n"), CLASSES)
    named = N.name_package(rows, "pkg", ["a/dog_bark1.ogg", "a/dog2.ogg", "a/cat.ogg"])
    assert named["a/dog_bark1.ogg"].classes == ("Bark", "Dog") and named["a/dog_bark1.ogg"].line == 2
    assert named["a/dog2.ogg"].classes == ("Dog",) and named["a/dog2.ogg"].line == 3
    assert "a/cat.ogg" not in named


def test_unknown_class_names_file_and_line(tmp_path):
    path = write(tmp_path, "pkg\t*/dog*\tDog\npkg\t*/cow*\tCow\n")
    with pytest.raises(N.TableError, match=r"table.tsv:2: unknown AudioSet class 'Cow'"):
        N.read_rows(path, CLASSES)


def test_malformed_line_names_file_and_line(tmp_path):
    with pytest.raises(N.TableError, match=r"table.tsv:1: expected package<TAB>glob<TAB>classes"):
        N.read_rows(write(tmp_path, "pkg */dog* Dog\n"), CLASSES)


def test_unmatched_rows_are_reported(tmp_path):
    rows = N.read_rows(write(tmp_path, "pkg\t*/dog*\tDog\npkg\t*/moo*\tMoo\n"), CLASSES)
    assert [r.line for r in N.unmatched_rows(rows, "pkg", ["x/dog.wav"])] == [2]


def test_yardstick_packages_are_always_held_out_and_others_by_a_stable_quarter():
    assert all(N.on_yardstick(p, f"f{i}.ogg") for p in N.YARDSTICK_PACKAGES for i in range(50))
    held = [N.on_yardstick("some-game-data", f"sounds/f{i}.ogg") for i in range(4000)]
    assert 0.22 < sum(held) / len(held) < 0.28
    assert held == [N.on_yardstick("some-game-data", f"sounds/f{i}.ogg") for i in range(4000)]


def test_description_reads_the_name():
    assert N.description("usr/share/games/0ad/mods/public/public.zip.d/audio/actor/fauna/cattle/Cow_Moo2.ogg") \
        == "actor fauna cattle cow moo 2"
    assert N.description("usr/share/scratch/Media/Sounds/Effects/DoorCreak.wav") == "scratch effects door creak"


def test_expand_adds_parents_once():
    parents = {"Bark": ("Dog", "Domestic animals, pets", "Animal"), "Dog": ("Domestic animals, pets", "Animal")}
    assert N.expand(("Bark", "Dog"), parents) == ("Bark", "Dog", "Domestic animals, pets", "Animal")


def test_shipped_tables_load_against_the_teachers_classes():
    _, names = read_class_map()
    rows = N.read_rows(N.TABLE, names)
    parents = N.read_parents(N.PARENTS, names)
    yardstick = [r for r in rows if r.package in N.YARDSTICK_PACKAGES]
    assert len(rows) >= 300 and len({c for r in yardstick for c in r.classes}) >= 50
    assert all(c in parents for r in rows for c in r.classes), "every named class has a parents line"
    generated = {c for made in [*SIGNAL_CLASSES.values(), *GM_PROGRAM_CLASSES.values(), DRUM_KIT_CLASSES] for c in made}
    assert generated <= set(names), generated - set(names)
    assert all(c in parents for c in generated), "every generated clip's class has a parents line"
