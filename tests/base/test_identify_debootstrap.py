"""Base identification on real Debian images (tests/base/debootstrap_images.py): base A = the cached
`debootstrap --variant=minbase bookworm` as one layer, base B = A plus a layer in which apt installed
ca-certificates and curl; an app on each; an app on A's "newer tag" (A after `apt-get upgrade` from
bookworm-security, rebuilt as one layer), with and without that tag in the catalog; a squashed image; a
multi-stage result whose final stage starts from B; images annotated as built on B, truthfully and not.

Every expectation comes from how the images were built: which layer holds which tree, and each tree's
package set from `dpkg-query --admindir` (never from hullscan); the splits and overlaps are set
operations on those lists, worked out in the test. The app's own files (Django's dist-info, a secret)
are the ones debootstrap_images.APP_FILES wrote.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
from debootstrap_images import NAMES, PLUS_ANNOTATION, Image, images, installed, tree  # noqa: E402
from imagehelp import example_db, validate_report  # noqa: E402

pytestmark = pytest.mark.slow

Pkgs = set[tuple[str, str]]
APP_PYPI = {("django", "2.2")}  # APP_FILES' dist-info; examples/feeds has PyPI advisories for it
SIMILAR_THRESHOLD = 0.8  # docs/base-images.md: `similar` needs at least 0.8 of a base's packages in the image


@dataclass(frozen=True)
class World:
    images: dict[str, Image]
    minbase: Pkgs  # dpkg-query of each tree
    plus: Pkgs
    upgraded: Pkgs
    jq: Pkgs  # minbase after `apt-get install jq`: the app layer of app_min
    db: Path
    cache: Path  # one layer cache for the module: each 200 MB layer is read once


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("debootstrap-identify")
    built = images()
    return World(built, installed(tree("minbase")), installed(tree("plus")), installed(tree("upgraded")),
                 installed(tree("jq")), example_db(root / "vuln.db"), root / "cache")


def _catalog(hullscan, world: World, *names: str) -> None:
    run = hullscan("base", "add", "--cache-dir", str(world.cache), *(world.images[n].target for n in names))
    assert run.code == 0, run.stderr


def _scan(hullscan, world: World, name: str) -> dict[str, Any]:
    run = hullscan("image", world.images[name].target, "--format", "json", "--quiet", "--scanners", "vuln,secret",
                   "--db", str(world.db), "--cache-dir", str(world.cache))
    assert run.code == 0 and "Traceback" not in run.stderr, run.stderr
    doc = run.json
    validate_report(doc)
    return doc


def _split(doc: dict[str, Any], kind: str) -> dict[bool | None, Pkgs]:
    """The image's packages of one type, grouped by their `inherited`."""
    out: dict[bool | None, Pkgs] = {}
    for p in doc["packages"]:
        if p["type"] == kind:
            out.setdefault(p["inherited"], set()).add((p["name"], p["version"]))
    return out


def _findings(doc: dict[str, Any]) -> dict[str, set[bool | None]]:
    """`inherited` of the vulnerabilities by package, and of the secrets by path."""
    out: dict[str, set[bool | None]] = {}
    for v in doc["vulnerabilities"]:
        out.setdefault(v["package"]["name"], set()).add(v["inherited"])
    for s in doc["secrets"]:
        out.setdefault(s["path"], set()).add(s["inherited"])
    return out


def _nothing_inherited(doc: dict[str, Any]) -> None:
    assert {p["inherited"] for p in doc["packages"]} == {None}
    assert {v["inherited"] for v in (*doc["vulnerabilities"], *doc["secrets"])} <= {None}
    assert all(ly["base"] is None for ly in doc["layers"])


def _most_similar(image: Pkgs, bases: dict[str, Pkgs]) -> tuple[str, float]:
    """The documented `similar` rule on the oracle lists: the base of which the image holds the largest
    share of packages; of equal shares the larger base."""
    name = max(bases, key=lambda n: (len(bases[n] & image) / len(bases[n]), len(bases[n])))
    return name, len(bases[name] & image) / len(bases[name])


def test_oracle_trees_are_what_the_scenarios_need(world: World) -> None:
    """The trees differ as the scenarios assume (checked on dpkg's own lists, so a mirror that moved shows here)."""
    assert len(world.minbase) > 80
    assert world.minbase < world.plus and {"curl", "ca-certificates"} <= {n for n, _ in world.plus - world.minbase}
    assert world.minbase < world.jq and "jq" in {n for n, _ in world.jq - world.minbase}
    upgraded = world.minbase - world.upgraded
    assert upgraded, "bookworm-security upgrades none of minbase's packages: the newer tag needs a newer .deb"
    assert {n for n, _ in upgraded} == {n for n, _ in world.upgraded - world.minbase}, "upgrades only, same names"


def test_app_on_each_base_by_catalog_prefix(hullscan, world: World) -> None:
    _catalog(hullscan, world, "minbase", "plus")
    doc = _scan(hullscan, world, "app_min")
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("catalog", NAMES["minbase"], 1, False)
    assert base["digest"] == world.images["minbase"].manifest_digest
    # layer 0 is minbase's tree; layer 1 rewrote dpkg's status with jq and its libraries, and the app files
    assert _split(doc, "deb") == {True: world.jq & world.minbase, False: world.jq - world.minbase}
    assert _split(doc, "pypi") == {False: APP_PYPI}
    assert _findings(doc) == {"django": {False}, "/app/.env": {False}}
    assert [ly["base"] for ly in doc["layers"]] == [True, False]

    doc = _scan(hullscan, world, "app_plus")
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("catalog", NAMES["plus"], 2, False)
    # layers 0 and 1 are plus's; the app layer only added files
    assert _split(doc, "deb") == {True: world.plus}
    assert _split(doc, "pypi") == {False: APP_PYPI}
    assert _findings(doc) == {"django": {False}, "/app/.env": {False}}
    assert [ly["base"] for ly in doc["layers"]] == [True, True, False]


def test_newer_tag_similar_until_catalogued(hullscan, world: World) -> None:
    _catalog(hullscan, world, "minbase", "plus")
    doc = _scan(hullscan, world, "app_upgraded")
    base = doc["base_image"]
    # no catalogued prefix (the rebuilt layer is new); the image holds the upgraded tree's packages
    name, share = _most_similar(world.upgraded, {NAMES["minbase"]: world.minbase, NAMES["plus"]: world.plus})
    assert name == NAMES["minbase"]  # plus's extra packages are not in the image: its share is lower
    if share >= SIMILAR_THRESHOLD:
        assert (base["method"], base["name"], base["layer_count"]) == ("similar", name, None)
        assert base["similarity"] == round(share, 4)
        assert base["digest"] == world.images["minbase"].manifest_digest
        table = hullscan("image", world.images["app_upgraded"].target, "--format", "table", "--quiet", "--scanners", "vuln,secret",
                         "--db", str(world.db), "--cache-dir", str(world.cache), extra_env={"COLUMNS": "200"})
        assert table.code == 0, table.stderr
        assert f"base image: similar to {name}, {share:.0%} of its packages (not marked inherited)" in table.stdout
    else:  # the security suite upgraded more than a fifth of minbase: nothing is similar enough
        assert (base["method"], base["name"]) == ("none", "")
    _nothing_inherited(doc)
    assert _split(doc, "deb") == {None: world.upgraded}

    _catalog(hullscan, world, "upgraded")  # the newer tag catalogued: an exact prefix again
    doc = _scan(hullscan, world, "app_upgraded")
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["similarity"]) == ("catalog", NAMES["upgraded"], 1, None)
    assert _split(doc, "deb") == {True: world.upgraded}
    assert _split(doc, "pypi") == {False: APP_PYPI}
    assert _findings(doc) == {"django": {False}, "/app/.env": {False}}


def test_squashed_image_is_similar_not_a_prefix(hullscan, world: World) -> None:
    _catalog(hullscan, world, "minbase", "plus")
    doc = _scan(hullscan, world, "squashed")  # one layer: plus's tree and the app's files
    base = doc["base_image"]
    name, share = _most_similar(world.plus, {NAMES["minbase"]: world.minbase, NAMES["plus"]: world.plus})
    assert (name, share) == (NAMES["plus"], 1.0)  # both shares are 1.0: the larger base is the answer
    assert (base["method"], base["name"], base["similarity"], base["layer_count"]) == ("similar", name, share, None)
    _nothing_inherited(doc)
    assert _split(doc, "deb") == {None: world.plus}
    assert _findings(doc) == {"django": {None}, "/app/.env": {None}}


def test_multistage_final_stage_starts_from_plus(hullscan, world: World) -> None:
    doc = _scan(hullscan, world, "multistage")  # empty catalog: CMD_AFTER_BASE, a CMD after minbase's one layer
    base = doc["base_image"]
    assert (base["method"], base["layer_count"], base["provisional"]) == ("history", 1, True)

    _catalog(hullscan, world, "minbase", "plus")
    doc = _scan(hullscan, world, "multistage")
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("catalog", NAMES["plus"], 2, False)
    # the final stage's own layer is a copied binary: every package is plus's
    assert _split(doc, "deb") == {True: world.plus}
    assert [ly["base"] for ly in doc["layers"]] == [True, True, False]


def test_base_annotation_checked_against_the_catalog(hullscan, world: World) -> None:
    _catalog(hullscan, world, "minbase", "plus")
    doc = _scan(hullscan, world, "truthful")  # app_plus's layers, annotated with plus's manifest digest
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"], base["provisional"]) == ("annotation", PLUS_ANNOTATION, 2, False)
    assert base["digest"] == world.images["plus"].manifest_digest and base["mismatch"] == ""
    assert _split(doc, "deb") == {True: world.plus}

    doc = _scan(hullscan, world, "lying")  # app_min's layers, claiming plus: plus's 2 layers are not its bottom
    base = doc["base_image"]
    assert (base["method"], base["name"], base["layer_count"]) == ("catalog", NAMES["minbase"], 1)
    assert PLUS_ANNOTATION in base["mismatch"]
    assert any("not trusted" in w["message"] and PLUS_ANNOTATION in w["message"] for w in doc["warnings"])
    assert _split(doc, "deb") == {True: world.jq & world.minbase, False: world.jq - world.minbase}
    assert _findings(doc) == {"django": {False}, "/app/.env": {False}}
