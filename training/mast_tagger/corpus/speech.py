"""The `espeak-ng` generator: synthetic speech, many sentences, languages, voices, speeds and pitches."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from ..audio import decode
from .core import Clip, Context, Source, run, seeded

ENGLISH = {
    "subject": ["The old man", "My sister", "The weather service", "A small dog", "The train to Leeds",
                "Our neighbours", "The committee", "Nobody in the office", "The pilot", "This recipe",
                "The children", "A woman on the radio", "The museum", "Everyone at the station"],
    "verb": ["said that", "reported that", "noticed that", "will announce that", "forgot that",
             "is worried that", "explained that", "just learned that", "keeps saying that"],
    "clause": ["the bridge will be closed until Friday", "the meeting starts at half past nine",
               "it might rain again tomorrow afternoon", "the coffee machine is broken",
               "the last bus leaves at eleven fifteen", "the garden needs water",
               "the results are better than expected", "there are seven apples in the basket",
               "the phone has been ringing all morning", "the parcel arrived yesterday",
               "the music was far too loud", "nobody knows where the keys are"],
    "tail": ["", "", " Please call back later.", " Thank you for waiting.", " Is that right?",
             " Really, I mean it.", " Press one to continue.", " We apologise for the delay."],
}
# A few phrases per language; numbers and times spoken in that language add the rest.
PHRASES = {
    "de": ["Der Zug nach Berlin hat zehn Minuten Verspätung.", "Bitte schließen Sie die Tür.",
           "Das Wetter bleibt morgen sonnig und warm.", "Wir sehen uns am Montag im Büro."],
    "fr-fr": ["Le prochain train partira dans cinq minutes.", "Merci de patienter quelques instants.",
              "Il fait très beau aujourd'hui à Paris.", "Votre appel est important pour nous."],
    "es": ["El vuelo a Madrid sale a las ocho.", "Por favor, deje su mensaje después de la señal.",
           "Mañana vamos a la playa con los niños.", "La tienda está cerrada los domingos."],
    "it": ["Il treno per Roma è in ritardo.", "Grazie per aver chiamato.",
           "Domani andiamo al mercato insieme.", "La cena è pronta sul tavolo."],
    "pt": ["O autocarro chega daqui a pouco.", "Obrigado pela sua paciência.",
           "Hoje está um dia muito bonito.", "A reunião começa às dez horas."],
    "nl": ["De trein naar Amsterdam vertrekt van spoor vijf.", "Dank u wel voor het wachten.",
           "Morgen gaat het regenen.", "De winkel is vandaag gesloten."],
    "pl": ["Pociąg do Krakowa jest opóźniony.", "Dziękujemy za cierpliwość.",
           "Jutro będzie padać deszcz.", "Spotkanie zaczyna się o dziesiątej."],
    "ru": ["Поезд в Москву отправляется через пять минут.", "Спасибо за ваше терпение.",
           "Завтра будет солнечно и тепло.", "Магазин закрыт по воскресеньям."],
    "sv": ["Tåget till Stockholm är försenat.", "Tack för att du väntar.",
           "I morgon blir det regn.", "Mötet börjar klockan tio."],
    "fi": ["Juna Helsinkiin lähtee viiden minuutin kuluttua.", "Kiitos odottamisesta.",
           "Huomenna sataa lunta.", "Kauppa on suljettu sunnuntaisin."],
    "cs": ["Vlak do Prahy má zpoždění.", "Děkujeme za trpělivost.",
           "Zítra bude pršet.", "Schůzka začíná v deset hodin."],
    "tr": ["İstanbul treni beş dakika sonra kalkacak.", "Beklediğiniz için teşekkürler.",
           "Yarın hava güneşli olacak.", "Toplantı saat onda başlıyor."],
}
ENGLISH_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "croak", "whisper",
            "klatt", "klatt3", "Alex", "anika", "Andy", "benjamin", "grandma", "iven", "linda", "Michael"]


def english_sentence(rng: np.random.Generator) -> str:
    pick = lambda key: ENGLISH[key][rng.integers(len(ENGLISH[key]))]  # noqa: E731
    return f"{pick('subject')} {pick('verb')} {pick('clause')}.{pick('tail')}"


def speech_text(rng: np.random.Generator, language: str) -> str:
    sentences = []
    for _ in range(rng.integers(1, 4)):
        if language.startswith("en"):
            sentences.append(english_sentence(rng))
        elif rng.random() < 0.7:
            sentences.append(PHRASES[language][rng.integers(len(PHRASES[language]))])
        else:
            sentences.append(f"{rng.integers(1, 10000)}, {rng.integers(1, 24)}:{rng.integers(0, 60):02d}.")
    return " ".join(sentences)


def espeak_clips(ctx: Context, source: Source) -> Iterator[Clip]:
    languages = ENGLISH_VOICES + list(PHRASES)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(12 if ctx.quick else 700):
            rng = seeded(source.name, i)
            # Half the clips in English: its grammar gives far more distinct sentences.
            language = ENGLISH_VOICES[rng.integers(len(ENGLISH_VOICES))] if rng.random() < 0.5 \
                else languages[rng.integers(len(languages))]
            variant = VARIANTS[rng.integers(len(VARIANTS))]
            speed, pitch = int(rng.integers(110, 230)), int(rng.integers(15, 90))
            text = speech_text(rng, language)
            out = Path(tmp) / "speech.wav"
            run(["espeak-ng", "-v", f"{language}+{variant}", "-s", str(speed), "-p", str(pitch),
                 "-w", str(out), text])
            origin = f"voice={language}+{variant} speed={speed} pitch={pitch} text={text}"
            yield Clip(decode(out), origin, source.category)
