"""Configuration: YAML defaults, environment overrides, and one clear line for a wrong value."""
import subprocess
import sys

import pytest

from server.config import ConfigError, load_settings


def test_defaults_are_embedded():
    settings = load_settings(environ={"YCT_MODE": "development"})
    assert settings.database.url.startswith("sqlite://")
    assert settings.cache.url == "memory://"
    assert settings.signing.link_ttl_hours == 48 and settings.home_province == "45"


def test_environment_overrides_nested_keys():
    settings = load_settings(environ={"YCT_MODE": "development", "YCT_SERVER__PORT": "9000", "YCT_CACHE__URL": "redis://127.0.0.1:6379/0",
                                      "YCT_HOME_PROVINCE": "44"})
    assert settings.server.port == 9000
    assert settings.cache.url == "redis://127.0.0.1:6379/0"
    assert settings.home_province == "44"


def test_lists_come_from_the_environment_as_json():
    settings = load_settings(environ={"YCT_MODE": "development",
                                      "YCT_SERVER__TRUSTED_PROXIES": '["10.0.0.0/8", "192.168.1.10"]',
                                      "YCT_SIGNING__REMINDER_HOURS": "[12, 1]"})
    assert settings.server.trusted_proxies == ["10.0.0.0/8", "192.168.1.10"]
    assert settings.signing.reminder_hours == [12, 1]
    with pytest.raises(ConfigError, match="server.trusted_proxies"):
        load_settings(environ={"YCT_MODE": "development", "YCT_SERVER__TRUSTED_PROXIES": '["proxy.example"]'})


@pytest.mark.parametrize("env, key", [
    ({"YCT_SERVER__PORT": "eighty"}, "server.port"),
    ({"YCT_DATABASE__URL": "mysql://x"}, "database.url"),
    ({"YCT_SMS__PROVIDER": "carrier-pigeon"}, "sms.provider"),
    ({"YCT_SERVER__COLOUR": "blue"}, "server.colour"),
])
def test_wrong_value_names_the_key(env, key):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env)
    assert repr(key) in str(caught.value)


def test_several_workers_need_a_shared_cache():
    """Workers forget what they keep when another announces a change: only a shared cache carries that."""
    several = {"YCT_MODE": "development", "YCT_SERVER__WORKERS": "4"}
    with pytest.raises(ConfigError, match="cache.url"):
        load_settings(environ=several)
    assert load_settings(environ={**several, "YCT_CACHE__URL": "redis://127.0.0.1:6379/0"}).server.workers == 4
    assert load_settings(environ={"YCT_MODE": "development", "YCT_SERVER__WORKERS": "1"}).cache.url == "memory://"


def test_server_refuses_to_start_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "server", "serve"], capture_output=True, text=True, timeout=60,
                            env={"YCT_SERVER__PORT": "not-a-port", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "server.port" in result.stderr


def test_missing_named_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(path=tmp_path / "nope.yaml", environ={})
