"""Prompts: every catalogue entry is synthesized to audio Asterisk plays as is, and a recording replaces it."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

from ivr import prompts


def test_every_prompt_is_built_as_8khz_mono_and_cached(tmp_path: Path) -> None:
    out = tmp_path / "out"
    counts = prompts.build(tmp_path / "cache", tmp_path / "recorded", out)
    catalogue = prompts.catalogue()
    assert counts == {"recorded": 0, "synthesized": len(catalogue), "cached": 0}
    for prompt in catalogue:
        with wave.open(str(out / prompt.language / f"{prompt.name}.wav")) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
            # Fragments and joining words (一, 元, "press") are a syllable or two; sentences half a second at least.
            assert wav.getnframes() > 8000 * (0.5 if len(prompt.text) >= 15 else 0.05), prompt
    again = prompts.build(tmp_path / "cache", tmp_path / "recorded", out)
    assert again == {"recorded": 0, "synthesized": 0, "cached": len(catalogue)}


def test_a_recording_replaces_the_synthesized_prompt(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded" / "zh" / "welcome.wav"
    recorded.parent.mkdir(parents=True)
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(recorded), "synth", "1.5", "sine", "440"], check=True
    )
    out = tmp_path / "out"
    counts = prompts.build(tmp_path / "cache", tmp_path / "recorded", out)
    assert counts["recorded"] == 1
    assert (out / "zh" / "welcome.wav").read_bytes() == recorded.read_bytes()
    assert (out / "en" / "welcome.wav").read_bytes() != recorded.read_bytes()


def test_changing_a_text_changes_its_cache_key() -> None:
    a = prompts.Prompt("welcome", "zh", "您好")
    b = prompts.Prompt("welcome", "zh", "您好！")
    assert a.digest != b.digest


def test_groups_in_the_catalogue_are_names_with_slashes() -> None:
    zh = {p.name: p.text for p in prompts.catalogue() if p.language == "zh"}
    assert zh["number/10000"] == "万"
    assert zh["outage/cause/fault"] == "线路故障"
    assert "number/11" not in zh  # English only: Mandarin says 十一 from 十 and 一
