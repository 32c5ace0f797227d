"""Training from labelled audio: a folder per class, or AudioSet-style CSVs."""

import numpy as np
import soundfile

from mast_tagger.labelled_data import LabelledWindows, parse_spec


def tone(path, seconds=2.0, rate=16000, hz=440.0):
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)


def test_folder_per_class(tmp_path):
    for name in ("dog", "bell"):
        (tmp_path / name).mkdir()
        tone(tmp_path / name / "a.wav")
    tone(tmp_path / "bell" / "b.wav", rate=44100)  # any rate: resampled to 16 kHz
    classes, files = parse_spec(f"folders:{tmp_path}")
    assert [c["name"] for c in classes] == ["bell", "dog"]
    assert sorted((f.parent.name, labels) for f, labels in files) == [("bell", [0]), ("bell", [0]), ("dog", [1])]
    data = LabelledWindows(files, len(classes), frames=100, mean=-4.27, std=4.57)
    # 2 s = 198 frames: windows start every 48 frames until the end is covered (0, 48, 96, 144;
    # the last is repeat-padded), 4 per file.
    assert len(data) == 12
    x, y = data[0]
    assert x.shape == (100, 128) and y.tolist() in ([1.0, 0.0], [0.0, 1.0])


def test_audioset_segments(tmp_path):
    labels = tmp_path / "class_labels_indices.csv"
    labels.write_text('index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/0bt9lr,"Dog"\n')
    segments = tmp_path / "segments.csv"
    segments.write_text('# YTID, start_seconds, end_seconds, positive_labels\n'
                        'abc, 30.000, 40.000, "/m/09x0r,/m/0bt9lr"\n'
                        'missing, 0.000, 10.000, "/m/09x0r"\n')
    audio = tmp_path / "audio"
    audio.mkdir()
    tone(audio / "abc_30.wav", seconds=1.5)
    classes, files = parse_spec(f"audioset:{segments},{audio},{labels}")
    assert classes == [{"name": "Speech", "id": "/m/09x0r"}, {"name": "Dog", "id": "/m/0bt9lr"}]
    assert [(f.name, l) for f, l in files] == [("abc_30.wav", [0, 1])]  # the clip not on disk is skipped
    x, y = LabelledWindows(files, 2, frames=100, mean=-4.27, std=4.57)[0]
    assert y.tolist() == [1.0, 1.0]
