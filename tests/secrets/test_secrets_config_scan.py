"""Image-config findings on hand-written configs in the shapes the builders record (hand-checked)."""

from __future__ import annotations

import json

from hullscan.secrets.config_scan import scan_image_config

TOKEN = "npm_" + "Q7wE9rT2yU4iO6pA8sD0fG3hJ5kL1zX3cV5b"  # format-valid, fabricated


def _ids(found: list[dict]) -> list[tuple[str, str, int | None]]:
    return sorted((f["rule_id"], f["path"], f["layer"]) for f in found)


def test_build_args_buildkit_and_legacy() -> None:
    config = {
        "config": {"User": "1000:1000"},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
            {"created_by": "/bin/sh -c #(nop)  ARG GITHUB_PASSWORD=Hunter2Hunter2", "empty_layer": True},
            {"created_by": f"RUN |3 VERSION=1.2 NPM_TOKEN={TOKEN} DEBUG=0 /bin/sh -c npm ci # buildkit"},
            {"created_by": "ARG HTTP_PROXY", "empty_layer": True},
            {"created_by": "RUN |1 VERSION=1.2 /bin/sh -c make # buildkit"},
        ],
    }
    found = scan_image_config(config)
    assert _ids([f for f in found if f["class"] == "config"]) == [
        ("config-secret-build-arg", "config:history[1]", None),
        ("config-secret-build-arg", "config:history[2]", 1),
    ]
    assert [(f["rule_id"], f["layer"]) for f in found if f["class"] == "secret"] == [("npm-access-token", 1)]
    blob = json.dumps(found)
    assert TOKEN[4:] not in blob and "Hunter2Hunter2" not in blob
    arg = next(f for f in found if f["path"] == "config:history[2]" and f["class"] == "config")
    assert "VERSION=1.2" in arg["match"] and "DEBUG=0" in arg["match"]  # only secret-named values masked


def test_env_labels_and_root() -> None:
    config = {
        "config": {
            "Env": ["PATH=/usr/bin", "DB_PASSWORD=Zq8#kLm2Rt9!", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"],
            "Labels": {"maintainer": "ops@acme.io"},
        },
        "history": [{"created_by": "ADD http://mirror.acme.io/tool.tgz /opt/ # buildkit"}],
    }
    found = scan_image_config(config)
    assert [(f["rule_id"], f["line"]["start"], f["source"]) for f in found if f["class"] == "secret"] == [
        ("generic-password-config", 2, "env")
    ]
    assert _ids([f for f in found if f["class"] == "config"]) == [
        ("config-add-url", "config:history[0]", 0),
        ("config-user-root", "config:User", None),
    ]


def test_odd_shapes_do_not_raise() -> None:
    assert [f["rule_id"] for f in scan_image_config({})] == ["config-user-root"]  # no USER at all
    odd = scan_image_config({"config": None, "history": [None, 3, {"created_by": None}]})
    assert [f["rule_id"] for f in odd] == ["config-user-root"]
    odd = scan_image_config({"config": {"User": "app", "Env": [1, None, "A=b"], "Labels": ["x"]}})
    assert odd == []
