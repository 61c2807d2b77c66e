"""Near-copy arithmetic: normalisation, shingles, signatures, bands (tgscope.analysis.minhash)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from tgscope.analysis import minhash
from tgscope.analysis.minhash import Hasher, Signer, jaccard, shingles, words

TEXT = (
    "🇷🇺🇨🇳 Сергей Лавров провёл переговоры с Министром иностранных дел КНР Ван И.\n"
    "Министры обсудили подготовку к предстоящим контактам на высшем уровне!"
)
WORDS = [
    *("сергей", "лавров", "провёл", "переговоры", "с", "министром", "иностранных", "дел"),
    *("кнр", "ван", "и", "министры", "обсудили", "подготовку", "к", "предстоящим"),
    *("контактам", "на", "высшем", "уровне"),
]


def test_words_fold_case_and_drop_punctuation_and_emoji():
    assert words(TEXT) == WORDS
    assert words("«Hello», WORLD… — #BRICS_2024 ＡＢＣ１") == [
        "hello",
        "world",
        "brics",
        "2024",
        "abc1",
    ]


@pytest.mark.parametrize(
    "tail",
    [
        "Подписывайтесь на наш канал",
        "👉 Подписывайтесь на наш канал: t.me/embassy_news",
        "Subscribe to our channel!",
        "✅ Follow us on Telegram",
        "Наш канал в Telegram: @rusemb_news",
        "https://t.me/rusemb_news",
        "@rusemb_news 🇷🇺",
        "t.me/rusemb_news  t.me/+AbCdEf",
        "",
        "🔥🔥",
    ],
)
def test_a_trailing_line_pointing_elsewhere_is_dropped(tail):
    assert words(f"{TEXT}\n{tail}") == WORDS


def test_several_trailing_lines_go_and_lines_within_the_text_stay():
    tail = "\n\nПодписывайтесь на наш канал\n@rusemb_news"
    assert words(TEXT + tail) == WORDS
    inside = "Subscribe to our channel\n" + TEXT
    assert words(inside)[:4] == ["subscribe", "to", "our", "channel"]
    long_line = "Subscribe " + "word " * 12
    assert words(f"{TEXT}\n{long_line}")[-1] == "word"  # over 12 words: text, not a call
    assert words(f"{TEXT}\nСм. t.me/mid_russia и заявление")[-1] == "заявление"


def test_shingles_are_word_pairs_and_short_texts_one_shingle():
    assert shingles(["a", "b", "c", "a", "b"]) == {("a", "b"), ("b", "c"), ("c", "a")}
    assert shingles(["a", "b"]) == {("a", "b")}
    assert shingles(["a"]) == {("a",)}
    assert shingles([]) == set()


def test_jaccard_of_sets_and_of_hash_arrays_agree():
    one, other = shingles(list("abcdef")), shingles(list("abcdeg"))
    assert jaccard(one, other) == 4 / 6
    hasher = Hasher()
    hashed = [hasher.shingle_hashes(list(t)) for t in ("abcdef", "abcdeg")]
    assert hashed[0].size == 5 and jaccard(*hashed) == 4 / 6


def test_shingle_hashes_are_the_distinct_shingles():
    hasher = Hasher()
    assert hasher.shingle_hashes(list("ababab")).size == 2  # (a b), (b a)
    assert hasher.shingle_hashes(["a"]).size == 1
    assert hasher.shingle_hashes(["a", "b"]).size == 1


def test_the_digest_depends_on_the_words_only():
    assert minhash.text_digest(words(TEXT)) == minhash.text_digest(words(TEXT.upper() + "\n🔥"))
    assert minhash.text_digest(["ab", "c"]) != minhash.text_digest(["a", "bc"])


def test_a_signature_estimates_the_jaccard():
    base = TEXT.split() * 3 + [f"w{n}" for n in range(60)]
    edited = [*base]
    edited[10:14] = ["x1", "x2", "x3", "x4"]
    hasher, signer = Hasher(), Signer()
    sets = [hasher.shingle_hashes([w.lower() for w in ws]) for ws in (base, edited)]
    exact = jaccard(*sets)
    signatures = signer.sign(sets)
    estimate = float(np.mean(signatures[0] == signatures[1]))
    assert signatures.shape == (2, minhash.NUM_PERM) and signatures.dtype == np.dtype("<u4")
    assert abs(estimate - exact) < 0.12


def test_signing_in_a_batch_equals_signing_one_by_one():
    hasher, signer = Hasher(), Signer()
    sets = [hasher.shingle_hashes(f"{TEXT} {n}".split()) for n in range(5000)]  # > one chunk
    together = signer.sign(sets)
    alone = np.vstack([signer.sign([s]) for s in sets[::997]])
    assert np.array_equal(together[::997], alone)


_SIGN = (
    "from tgscope.analysis.minhash import Hasher, Signer, words, band_keys;"
    "import sys, hashlib;"
    "s = Signer().sign([Hasher().shingle_hashes(words(sys.argv[1]))]);"
    "print(hashlib.sha256(s.tobytes()).hexdigest(),"
    " hashlib.sha256(band_keys(s, 6).tobytes()).hexdigest())"
)
#: the signature of TEXT, as every process computes it (stored signatures depend on it)
PINNED_SIGNATURE = "60845cd84a63868e32a94507df02978096685d253633b149712096dca97b6710"


@pytest.mark.slow
def test_signatures_are_the_same_bytes_in_every_process():
    here = Signer().sign([Hasher().shingle_hashes(words(TEXT))])
    ours = (
        hashlib.sha256(here.tobytes()).hexdigest(),
        hashlib.sha256(minhash.band_keys(here, 6).tobytes()).hexdigest(),
    )
    runs = {
        tuple(
            subprocess.run(
                [sys.executable, "-c", _SIGN, TEXT],
                capture_output=True,
                text=True,
                check=True,
                env={"PYTHONHASHSEED": seed, "PATH": ""},
            ).stdout.split()
        )
        for seed in ("1", "2")
    }
    assert runs == {ours}
    assert ours[0] == PINNED_SIGNATURE


def test_bands_for_a_threshold():
    assert minhash.rows_for(0.7) == 6  # 20 bands of 6: a pair at 0.7 found 92% of times
    assert minhash.floor_for(6) == 0.7
    assert minhash.rows_for(0.5) < 6
    keys = minhash.band_keys(np.array([[1] * 120, [1] * 114 + [2] * 6]), 6)
    assert keys.shape == (2, 20) and keys.dtype == np.int64
    assert (keys[0] == keys[1]).tolist() == [True] * 19 + [False]
