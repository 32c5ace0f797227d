#!/usr/bin/env bash
# Makes examples/scene.wav, the bundled example recording (16 kHz mono, 16-bit, 12 s), from
# nothing but espeak-ng and sox, so it carries no third-party audio:
#   0.0– 2.5 s  speech (espeak-ng, English)
#   3.0– 4.0 s  a 1 kHz beep
#   5.0– 7.0 s  white noise
#   7.5–10.0 s  speech (espeak-ng, a second voice)
#  10.5–11.5 s  a sawtooth chord
# Usage: examples/make_example.sh [OUT.wav]
set -euo pipefail
out=${1:-"$(dirname "$0")/scene.wav"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fmt=(-r 16000 -c 1 -b 16)

espeak-ng -v en-us -s 150 -w "$tmp/s1.wav" "Good morning. The tagger is listening to this room."
espeak-ng -v en-gb+f3 -s 140 -w "$tmp/s2.wav" "Did you hear the beep and the noise a moment ago?"
sox "$tmp/s1.wav" "${fmt[@]}" "$tmp/speech1.wav" trim 0 2.5 pad 0 0.5
sox -n "${fmt[@]}" "$tmp/beep.wav" synth 1 sine 1000 vol 0.4 pad 0 1
sox -n "${fmt[@]}" "$tmp/noise.wav" synth 2 whitenoise vol 0.2 pad 0 0.5
sox "$tmp/s2.wav" "${fmt[@]}" "$tmp/speech2.wav" trim 0 2.5 pad 0 0.5
sox -n "${fmt[@]}" "$tmp/chord.wav" synth 1 sawtooth 220 sawtooth 277 sawtooth 330 vol 0.15 pad 0 0.5
sox "$tmp/speech1.wav" "$tmp/beep.wav" "$tmp/noise.wav" "$tmp/speech2.wav" "$tmp/chord.wav" "${fmt[@]}" "$out"
echo "wrote $out ($(soxi -D "$out") s)"
