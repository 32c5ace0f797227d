"""The front end as torchaudio computes it: the reference for Swift's `Features` target."""

from __future__ import annotations

import numpy as np
import torch
import torchaudio.compliance.kaldi


def torchaudio_fbank(waveform: np.ndarray, options: dict, dtype: torch.dtype = torch.float32) -> np.ndarray:
    """kaldi.fbank with FbankOptions keys; returns [frames, num_mel_bins] (0 frames when N < L)."""
    length = int(options["sample_rate"] * options["frame_length_ms"] * 0.001)
    if len(waveform) < length:  # torchaudio asserts here; the Swift side returns no frames
        return np.zeros((0, options["num_mel_bins"]), dtype=np.float32)
    fbank = torchaudio.compliance.kaldi.fbank(
        torch.from_numpy(waveform).to(dtype).unsqueeze(0),
        sample_frequency=options["sample_rate"],
        num_mel_bins=options["num_mel_bins"],
        frame_length=options["frame_length_ms"],
        frame_shift=options["frame_shift_ms"],
        low_freq=options["low_freq"],
        high_freq=options["high_freq"],
        preemphasis_coefficient=options["preemphasis"],
        window_type=options["window_type"],
        remove_dc_offset=options["remove_dc_offset"],
        round_to_power_of_two=options["round_to_power_of_two"],
        dither=0.0, snip_edges=True, use_energy=False, htk_compat=True)
    return fbank.float().numpy()
