from pathlib import Path

import pytest

from listen.config import find_config, load, parse, parse_size
from listen.durations import humanize, parse_duration
from listen.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def problems(data, tmp_path=Path("/tmp/x")):
    with pytest.raises(ConfigError) as e:
        parse(data, tmp_path / "listen.toml")
    return "\n".join(e.value.problems)


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("30m", 1800), ("12h", 43200), ("14d", 1209600),
                                          ("2w", 1209600), ("1h30m", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "14", "d", "14 days", "-3h", "3x"])
def test_bad_durations_say_the_expected_form(bad):
    with pytest.raises(ValueError, match="90s, 30m"):
        parse_duration(bad)


def test_humanize():
    assert humanize(45) == "45s"
    assert humanize(3 * 3600 + 1200) == "3h 20m"
    assert humanize(4 * 86400 + 7200) == "4d 2h"


def test_example_and_starter_configs_load():
    cfg = load(ROOT / "config.example.toml")
    assert cfg.feeds and cfg.max_age == 14 * 86400
    assert load(ROOT / "listen" / "starter.toml").feeds[0].type == "rss"


def test_database_path_is_relative_to_the_config(tmp_path):
    (tmp_path / "sub").mkdir()
    cfg_path = tmp_path / "sub" / "listen.toml"
    cfg_path.write_text('[store]\npath = "data/my.db"\n')
    assert load(cfg_path).db_path == (tmp_path / "sub" / "data" / "my.db").resolve()
    assert load(cfg_path, db_override=str(tmp_path / "o.db")).db_path == tmp_path / "o.db"


def test_unknown_keys_get_a_did_you_mean():
    out = problems({"inbox": {"max_agee": "3d"}})
    assert "inbox: unknown key 'max_agee'" in out and "did you mean 'max_age'" in out
    out = problems({"feeds": [{"name": "b", "type": "rss", "ulr": "http://x"}]})
    assert "feeds[0] (b): unknown key 'ulr'" in out and "'url'" in out


def test_unknown_section_and_type():
    assert "unknown section [inbx]" in problems({"inbx": {}})
    out = problems({"feeds": [{"name": "b", "type": "rsss", "url": "http://x"}]})
    assert "feeds[0] (b).type" in out and "did you mean 'rss'" in out


def test_every_problem_is_listed_at_once():
    out = problems({"inbox": {"max_age": "soon"}, "feeds": [{"type": "rss", "url": "http://x"},
                                                            {"name": "j", "type": "jsonl"}]})
    assert "inbox.max_age" in out
    assert "missing required key 'name'" in out
    assert "feeds[1] (j): set either `path` or `url`" in out


def test_duplicate_feed_names():
    out = problems({"feeds": [{"name": "a", "type": "rss", "url": "http://x"},
                              {"name": "a", "type": "rss", "url": "http://y"}]})
    assert "used twice" in out


def test_inline_secret_points_to_env_form():
    out = problems({"feeds": [{"name": "m", "type": "mastodon", "token": "abc123", "token_env": "X"}]})
    assert "unknown key 'token'" in out
    assert "abc123" not in out


def test_wrong_types_are_named():
    out = problems({"identity": {"names": "acme"}, "flags": {"question_threshold": 3}})
    assert "flags.question_threshold: expected a number from 0 to 1" in out


def test_sizes():
    assert parse_size("20MB") == 20 * 1024 * 1024
    assert parse_size("512kb") == 512 * 1024
    with pytest.raises(ValueError):
        parse_size("lots")


def test_config_lookup_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config(None) is None
    (tmp_path / "listen.toml").write_text("")
    assert find_config(None) == Path("listen.toml")
    monkeypatch.setenv("LISTEN_CONFIG", str(tmp_path / "env.toml"))
    assert find_config(None) == tmp_path / "env.toml"
    assert find_config("given.toml") == Path("given.toml")


def test_invalid_toml_names_the_file(tmp_path):
    p = tmp_path / "listen.toml"
    p.write_text("[inbox\nmax_age=")
    with pytest.raises(ConfigError) as e:
        load(p)
    assert str(p) in str(e.value) and "not valid TOML" in str(e.value)


def test_no_config_at_all_says_how_to_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="listen init"):
        load(None)
