"""config_hash: Tron's SHA-1 of the re-dumped YAML, checked against captured hashes."""

from __future__ import annotations

import hashlib
import json

from tron.config import config_hash

from .helpers import SAMPLES, sample

EMPTY_HASH = "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_empty_namespace_hashes_as_the_empty_string() -> None:
    assert config_hash("") == EMPTY_HASH
    assert config_hash("# nothing\n") == EMPTY_HASH


def test_hash_matches_tron_for_the_default_namespace_text() -> None:
    # Captured: after a failed upload Tron keeps the default "\njobs:\n" namespace, and
    # `GET /api/config?name=broken` then gave the hash the client posted back.
    capture = (SAMPLES.parent / "samples" / "api_config_extra_after_delete.json").read_text()
    default_text = json.loads(capture)["config"]
    assert config_hash(default_text) == "4b73a46198be913b61fd21e50a28a927a50fb115"


def test_hash_is_of_the_sorted_dump_not_of_the_bytes() -> None:
    dumped = "a: 1\nb:\n- x\n"
    assert config_hash("b: [x]  # comment\na: 1\n") == hashlib.sha1(dumped.encode()).hexdigest()


def test_comments_and_layout_do_not_change_the_hash() -> None:
    master = json.loads(sample("api_config_master.json"))
    no_header = json.loads(sample("api_config_no_header.json"))
    assert master["hash"] == no_header["hash"]
    text = master["config"]
    reflowed = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert config_hash(reflowed) == config_hash(text)
    assert config_hash(text.replace("hello", "bye")) != config_hash(text)


def test_unicode_text_hashes() -> None:
    text = json.loads(sample("api_config_demo.json"))["config"]
    assert len(config_hash(text)) == 40


def test_text_that_is_not_yaml_hashes_as_itself() -> None:
    text = "jobs: [unclosed"
    assert config_hash(text) == hashlib.sha1(text.encode()).hexdigest()
