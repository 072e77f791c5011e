"""Credentials against real registries: htpasswd basic auth, bearer tokens from a token server,
TLS with a self-signed certificate. Every failure names the registry, the repository and the
credential source, and never a password or token."""

from __future__ import annotations

import base64
import json
import os
import stat

from registry_support import PASSWORD, USER

SCAN = ("--scanners", "license", "--format", "json", "-q", "--no-cache")


def _no_secret(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text, "a secret leaked into the output"


def test_basic_auth_sources(basic_registry, images, hullscan, tmp_path):
    ref = f"{basic_registry.host}/test/app:1.0"
    anon = hullscan("image", ref, *SCAN)
    assert anon.code == 3
    assert basic_registry.host in anon.stderr and "test/app" in anon.stderr and "anonymous" in anon.stderr

    ok = hullscan("image", ref, *SCAN, "--username", USER, "--password-stdin", stdin=PASSWORD + "\n")
    assert ok.code == 0, ok.stderr
    assert ok.report["target"]["manifest_digest"] == images.app.manifest_digest

    wrong = hullscan("image", ref, *SCAN, "--username", USER, "--password-stdin", stdin="not-the-Pa55word\n")
    assert wrong.code == 3
    assert "--username/--password-stdin" in wrong.stderr and "401" in wrong.stderr
    _no_secret(wrong.stderr + wrong.stdout, "not-the-Pa55word", PASSWORD)

    env = hullscan("image", ref, *SCAN, env={"HULLSCAN_REGISTRY_USERNAME": USER, "HULLSCAN_REGISTRY_PASSWORD": PASSWORD})
    assert env.code == 0, env.stderr
    env_bad = hullscan("image", ref, *SCAN, env={"HULLSCAN_REGISTRY_USERNAME": USER, "HULLSCAN_REGISTRY_PASSWORD": "wrong-env-pw-123"})
    assert env_bad.code == 3 and "HULLSCAN_REGISTRY_USERNAME" in env_bad.stderr
    _no_secret(env_bad.stderr, "wrong-env-pw-123")

    # ~/.docker/config.json `auths` (as `docker login` writes it)
    docker = tmp_path / "dockercfg"
    docker.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {f"http://{basic_registry.host}": {"auth": auth}}}))
    cfg = hullscan("image", ref, *SCAN, env={"DOCKER_CONFIG": str(docker)})
    assert cfg.code == 0, cfg.stderr
    bad = base64.b64encode(f"{USER}:wrong-cfg-pw-456".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {basic_registry.host: {"auth": bad}}}))
    cfg_bad = hullscan("image", ref, *SCAN, env={"DOCKER_CONFIG": str(docker)})
    assert cfg_bad.code == 3 and "config.json (auths)" in cfg_bad.stderr
    _no_secret(cfg_bad.stderr, "wrong-cfg-pw-456", bad)

    # the command line wins over the environment, which wins over the config file
    first = hullscan("image", ref, *SCAN, "--username", USER, "--password-stdin", stdin=PASSWORD,
                     env={"DOCKER_CONFIG": str(docker), "HULLSCAN_REGISTRY_USERNAME": USER, "HULLSCAN_REGISTRY_PASSWORD": "x"})
    assert first.code == 0, first.stderr


def test_credential_helper(basic_registry, hullscan, tmp_path):
    """credHelpers → `docker-credential-NAME get` (the real helper protocol, served by a script)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-hstest"
    helper.write_text(
        "#!/bin/sh\n"
        "[ \"$1\" = get ] || exit 1\n"
        "read server || true\n"
        f"if [ \"$server\" = \"{basic_registry.host}\" ]; then\n"
        f"  printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n"
        "else echo 'credentials not found in native keychain'; exit 1; fi\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    docker = tmp_path / "dockercfg"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credHelpers": {basic_registry.host: "hstest"}}))
    env = {"DOCKER_CONFIG": str(docker), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    run = hullscan("image", f"{basic_registry.host}/test/app:1.0", *SCAN, env=env)
    assert run.code == 0, run.stderr
    # a credsStore whose program is missing: a clear error naming the program, exit 2 (bad config)
    (docker / "config.json").write_text(json.dumps({"credsStore": "no-such-store"}))
    missing = hullscan("image", f"{basic_registry.host}/test/app:1.0", *SCAN, env=env)
    assert missing.code == 2 and "docker-credential-no-such-store" in missing.stderr


def test_token_auth(token_registry, images, hullscan):
    tok = token_registry.token
    ref = f"{token_registry.host}/test/app:1.0"
    n = len(tok.requests)
    anon = hullscan("image", ref, *SCAN)  # the token server grants anonymous pulls
    assert anon.code == 0, anon.stderr
    assert anon.report["target"]["manifest_digest"] == images.app.manifest_digest
    asked = tok.requests[n:]
    assert {"scope": ["repository:test/app:pull"], "auth": ""} in asked

    n = len(tok.requests)
    user = hullscan("image", ref, *SCAN, "--username", USER, "--password-stdin", stdin=PASSWORD)
    assert user.code == 0, user.stderr
    assert any(r["auth"] == "Basic" and r["scope"] == ["repository:test/app:pull"] for r in tok.requests[n:])

    bad = hullscan("image", ref, *SCAN, "--username", USER, "--password-stdin", stdin="wrong-token-pw-789")
    assert bad.code == 3
    assert token_registry.host in bad.stderr and "test/app" in bad.stderr and "--username/--password-stdin" in bad.stderr
    assert "token server" in bad.stderr
    _no_secret(bad.stderr + bad.stdout, "wrong-token-pw-789", PASSWORD, *tok.issued)
    _no_secret(user.stderr + anon.stderr, PASSWORD, *tok.issued)


def test_tls_verified_by_default(tls_registry, images, hullscan):
    ref = f"{tls_registry.host}/test/app:1.0"
    strict = hullscan("image", ref, *SCAN, fresh_process=True)
    assert strict.code == 3
    assert "certificate" in strict.stderr and tls_registry.host in strict.stderr and "--insecure" in strict.stderr
    loose = hullscan("image", ref, *SCAN, "--insecure")
    assert loose.code == 0, loose.stderr
    assert loose.report["target"]["manifest_digest"] == images.app.manifest_digest
    trusted = hullscan("image", ref, *SCAN, env={"SSL_CERT_FILE": str(tls_registry.tls[0])}, fresh_process=True)
    assert trusted.code == 0, trusted.stderr


def test_auth_file_written_by_skopeo_login(basic_registry, hullscan, tmp_path):
    """`skopeo login` writes the containers auth file; REGISTRY_AUTH_FILE points hullscan at it."""
    import subprocess

    authfile = tmp_path / "auth.json"
    subprocess.run(["skopeo", "login", "--tls-verify=false", "--authfile", str(authfile), "-u", USER, "--password-stdin",
                    basic_registry.host], input=PASSWORD, text=True, check=True, capture_output=True)
    run = hullscan("image", f"{basic_registry.host}/test/app:1.0", *SCAN, env={"REGISTRY_AUTH_FILE": str(authfile)})
    assert run.code == 0, run.stderr
