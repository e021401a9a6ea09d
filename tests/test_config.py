"""Configuration: YAML defaults, environment overrides, and one clear line for a wrong value."""
import subprocess
import sys

import pytest

from server.config import ConfigError, load_settings


def test_defaults_are_embedded():
    settings = load_settings(environ={})
    assert settings.database.url.startswith("sqlite://")
    assert settings.cache.url == "memory://"
    assert settings.signing.link_ttl_hours == 48 and settings.home_province == "45"


def test_environment_overrides_nested_keys():
    settings = load_settings(environ={"YCT_SERVER__PORT": "9000", "YCT_CACHE__URL": "redis://127.0.0.1:6379/0",
                                      "YCT_HOME_PROVINCE": "44"})
    assert settings.server.port == 9000
    assert settings.cache.url == "redis://127.0.0.1:6379/0"
    assert settings.home_province == "44"


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


def test_server_refuses_to_start_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "server", "serve"], capture_output=True, text=True, timeout=60,
                            env={"YCT_SERVER__PORT": "not-a-port", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "server.port" in result.stderr


def test_missing_named_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(path=tmp_path / "nope.yaml", environ={})


@pytest.mark.parametrize("env, key", [
    ({}, "documents.pkcs12"),
    ({"YCT_DOCUMENTS__PKCS12": "/etc/yct/platform.p12", "YCT_DOCUMENTS__MOUNT_MOCK_TSA": "true"},
     "documents.mount_mock_tsa"),
    ({"YCT_DOCUMENTS__PKCS12": "/etc/yct/platform.p12"}, "notary.url"),
    ({"YCT_DOCUMENTS__PKCS12": "/etc/yct/platform.p12", "YCT_NOTARY__MOUNT_MOCK": "false",
      "YCT_NOTARY__URL": "https://notary.example/e"}, "email.host"),
    ({"YCT_DOCUMENTS__PKCS12": "/etc/yct/platform.p12", "YCT_NOTARY__MOUNT_MOCK": "false",
      "YCT_NOTARY__URL": "https://notary.example/e", "YCT_EMAIL__MOUNT_MOCK": "false",
      "YCT_EMAIL__HOST": "smtp.example.gov.cn"}, "faceid.endpoint"),
])
def test_production_refuses_the_development_certificate_and_stand_ins(env, key):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"YCT_MODE": "production", **env})
    assert repr(key) in str(caught.value)
    settings = load_settings(environ={"YCT_MODE": "production", "YCT_DOCUMENTS__PKCS12": "/etc/yct/platform.p12",
                                      "YCT_NOTARY__MOUNT_MOCK": "false", "YCT_NOTARY__URL": "https://notary.example/e",
                                      "YCT_EMAIL__MOUNT_MOCK": "false", "YCT_EMAIL__HOST": "smtp.example.gov.cn",
                                      "YCT_FACEID__MOUNT_MOCK": "false",
                                      "YCT_FACEID__ENDPOINT": "https://faceid.tencentcloudapi.com"})
    assert settings.mode == "production"
