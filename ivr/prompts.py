"""The prompt catalogue (prompts.toml) and the synthesis of missing prompts to 8 kHz audio for Asterisk.

Synthesized files are cached by the hash of their text, so editing a prompt's text re-synthesizes just that
prompt; a recording with the prompt's name replaces the synthesized file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CATALOGUE = Path(__file__).with_name("prompts.toml")
# espeak-ng voice and speed (words a minute; a Mandarin "word" is one character) for each catalogue language.
VOICES = {"zh": ("cmn", 230), "en": ("en-us", 175)}
# Part of each synthesized file's cache key: bump it when the synthesis itself changes.
SYNTHESIS_VERSION = 3


class PromptError(Exception):
    """A prompt could not be synthesized; the message names the prompt and the tool that failed."""


@dataclass(frozen=True)
class Prompt:
    name: str
    language: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha1(f"{SYNTHESIS_VERSION}\0{self.language}\0{self.text}".encode()).hexdigest()[:12]


def catalogue(path: Path = CATALOGUE) -> list[Prompt]:
    """Every prompt in every language it has; nested tables are groups, their names joined with `/`."""
    return list(_flatten(tomllib.loads(path.read_text(encoding="utf-8")), ""))


def _flatten(table: Mapping[str, Any], prefix: str) -> list[Prompt]:
    found = []
    for key, value in table.items():
        if isinstance(value, str):
            found.append(Prompt(prefix.rstrip("/"), key, value))
        else:
            found += _flatten(value, f"{prefix}{key}/")
    return found


def names(language: str, path: Path = CATALOGUE) -> set[str]:
    """The prompt names the catalogue has in `language`."""
    return {p.name for p in catalogue(path) if p.language == language}


def synthesize(prompt: Prompt, target: Path) -> None:
    """Speak the prompt with espeak-ng and convert it with sox to 8 kHz, 16-bit, mono WAV."""
    if prompt.language not in VOICES:
        raise PromptError(f"no voice for language {prompt.language!r} (prompt {prompt.name})")
    voice, speed = VOICES[prompt.language]
    raw = target.with_suffix(".raw.wav")
    try:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), prompt.text], check=True, capture_output=True
        )
        subprocess.run(
            # 8 kHz 16-bit mono is what Asterisk plays without transcoding; the silence at both ends is trimmed so
            # that prompts follow each other without gaps.
            [
                "sox",
                str(raw),
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(target),
                "silence",
                "1",
                "0.02",
                "0.5%",
                "reverse",
                "silence",
                "1",
                "0.02",
                "0.5%",
                "reverse",
            ],
            check=True,
            capture_output=True,
        )
    except FileNotFoundError as exc:
        raise PromptError(f"{exc.filename} is not installed (needed for prompt {prompt.name})") from exc
    except subprocess.CalledProcessError as exc:
        raise PromptError(f"synthesizing {prompt.language}/{prompt.name} failed: {exc.stderr!r}") from exc
    finally:
        raw.unlink(missing_ok=True)


def build(cache_dir: Path, recorded_dir: Path, out_dir: Path) -> dict[str, int]:
    """Make out_dir/<lang>/<name>.wav for every catalogue prompt: the recording if there is one, else the
    synthesized file (made now if the cache lacks it). Returns how many of each kind were used."""
    counts = {"recorded": 0, "synthesized": 0, "cached": 0}
    missing: list[tuple[Prompt, Path, Path]] = []
    for prompt in catalogue():
        target = out_dir / prompt.language / f"{prompt.name}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        recorded = recorded_dir / prompt.language / f"{prompt.name}.wav"
        if recorded.exists():
            shutil.copyfile(recorded, target)
            counts["recorded"] += 1
            continue
        cached = cache_dir / prompt.language / f"{prompt.name}.{prompt.digest}.wav"
        if cached.exists():
            counts["cached"] += 1
            shutil.copyfile(cached, target)
        else:
            cached.parent.mkdir(parents=True, exist_ok=True)
            missing.append((prompt, cached, target))
    if missing:
        log.info("synthesizing %d prompts", len(missing))
        # espeak-ng and sox are separate processes: a few at a time use every core on a first start.
        with ThreadPoolExecutor(max_workers=min(8, 2 * (os.cpu_count() or 1))) as pool:
            list(pool.map(lambda job: synthesize(job[0], job[1]), missing))
        for _prompt, cached, target in missing:
            shutil.copyfile(cached, target)
        counts["synthesized"] = len(missing)
    return counts
