"""Amazon Linux (ALAS updateinfo) and Oracle Linux (ELSA OVAL) end to end: images built here with real rpm
databases (rpmbuild-made packages installed with `rpm --dbpath … -i --justdb`; Amazon Linux 2 as the
BerkeleyDB `Packages` it uses, the others SQLite), scanned against a DB made by `hullscan db import` of
the real records in tests/vulndb/testdata/{amazon,oracle} (PROVENANCE.md there).

Every expected finding is derived by hand in the comments from the record and the rpm version order
(epoch first; then version and release compared segment by segment, digits above letters)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inventory" / "rpm"))
import _rpmdb_build as R  # noqa: E402
from osv_distro_images import image, run, scan  # noqa: E402

from testsupport import require_tool  # noqa: E402

VULNDATA = Path(__file__).resolve().parents[1] / "vulndb" / "testdata"
RECORDS = [VULNDATA / "amazon" / f for f in ("updateinfo_1_item.xml.gz", "updateinfo_2_items.xml.gz",
                                             "updateinfo_AL2022.xml.gz", "updateinfo_AL2023.xml.gz")] + [
    VULNDATA / "oracle" / f for f in ("all-positive-data.xml.bz2", "vunnel-mock_ksplice_data.xml",
                                      "vunnel-mock_per_arch_data.xml")]

# (spec name, epoch or None, version, release, sub-packages built from the same source rpm)
Spec = tuple[str, "int | None", str, str, tuple[str, ...]]
AL2: list[Spec] = [
    ("kernel", None, "4.9.75", "25.55.amzn2", ("bpftool",)),
    ("qemu-kvm", 10, "1.5.3", "140.amzn2", ("qemu-img",)),
    ("qemu-kvm-common", None, "2.0.0", "1.amzn2", ()),
    ("java-1.8.0-openjdk-headless", 1, "1.8.0.171", "8.b10.amzn2", ()),
    ("rsyslog", None, "8.24.0", "57.amzn2", ()),
]
AL2023: list[Spec] = [("rsyslog", None, "8.2204.0", "2.amzn2023.0.1", ()), ("qemu-img", 10, "1.5.3", "140.amzn2", ())]
OL6: list[Spec] = [
    ("dbus", 1, "1.2.24", "7.el6_3", ("dbus-libs",)),
    ("dbus-x11", None, "1.6.0", "1.el6", ()),
    ("bind", 30, "9.3.3", "7.el5", ()),
    ("xulrunner", None, "1.9.2.22", "1.0.1.el5_7", ()),
]
OL7: list[Spec] = [
    ("sudo", None, "1.8.23", "3.el7", ()),
    ("rsyslog", None, "8.24.0", "57.0.2.el7_9.3", ()),
    ("rsyslog-crypto", None, "8.24.0", "57.el7", ()),
]
OL8: list[Spec] = [("openssl", 1, "1.1.1g", "12.el8_3", ("openssl-libs",)), ("osbuild", None, "110", "1.el8", ())]

OS_RELEASE = {
    "al2": 'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n'
           'PRETTY_NAME="Amazon Linux 2"\n',
    "al2023": 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
              'PRETTY_NAME="Amazon Linux 2023"\n',
    "ol6": 'NAME="Oracle Linux Server"\nVERSION="6.10"\nID="ol"\nVERSION_ID="6.10"\nPRETTY_NAME="Oracle Linux Server 6.10"\n',
    "ol7": 'NAME="Oracle Linux Server"\nVERSION="7.9"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="7.9"\n'
           'PRETTY_NAME="Oracle Linux Server 7.9"\n',
    "ol8": 'NAME="Oracle Linux Server"\nVERSION="8.3"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="8.3"\n'
           'PRETTY_NAME="Oracle Linux Server 8.3"\n',
}
IMAGES = {"al2": AL2, "al2023": AL2023, "ol6": OL6, "ol7": OL7, "ol8": OL8}


def _spec(name: str, epoch: int | None, version: str, release: str, subs: tuple[str, ...]) -> str:
    head = (f"Name: {name}\nVersion: {version}\nRelease: {release}\n" + (f"Epoch: {epoch}\n" if epoch is not None else "")
            + f"Summary: {name}\nLicense: MIT\nBuildArch: noarch\n%global debug_package %{{nil}}\n"
            f"%description\n{name}\n%files\n")
    for sub in subs:
        head += f"%package -n {sub}\nSummary: {sub}\n%description -n {sub}\n{sub}\n%files -n {sub}\n"
    return head


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, dict]:
    for tool in ("rpm", "rpmbuild", "db5.3_load"):
        require_tool(tool)
    work = tmp_path_factory.mktemp("amzn-ol")
    db = work / "vuln.db"
    r = run("db", "import", *map(str, RECORDS), "--db", str(db))
    assert r.returncode == 0, r.stderr
    out = {}
    for key, specs in IMAGES.items():
        top = work / key / "top"
        (top / "SPECS").mkdir(parents=True)
        for name, epoch, version, release, subs in specs:
            spec = top / "SPECS" / f"{name}.spec"
            spec.write_text(_spec(name, epoch, version, release, subs))
            R._run("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}", str(spec))
        dbpath = work / key / "rpmdb"
        R._run("rpm", "--dbpath", str(dbpath), "--initdb")
        R._run("rpm", "--dbpath", str(dbpath), "-i", "--justdb", "--nodeps", "--noscripts",
               *sorted(str(p) for p in (top / "RPMS").rglob("*.rpm")))
        files = {"etc/os-release": OS_RELEASE[key].encode()}
        if key == "al2":  # Amazon Linux 2 keeps the BerkeleyDB rpmdb
            R.write_bdb(R.sqlite_blobs(dbpath / "rpmdb.sqlite"), work / key / "Packages", big_endian=False)
            files["var/lib/rpm/Packages"] = (work / key / "Packages").read_bytes()
        else:
            files["var/lib/rpm/rpmdb.sqlite"] = (dbpath / "rpmdb.sqlite").read_bytes()
        inv, found = scan(image(work / f"{key}.tar", files), db)
        out[key] = {"inv": inv, "found": found}
    return out


def _by_advisory(found: dict) -> dict[str, set[str]]:
    """advisory id → package names found for it."""
    out: dict[str, set[str]] = {}
    for (pkg, adv), _ in found.items():
        out.setdefault(adv, set()).add(pkg)
    return out


def test_amazon_linux_2(scans) -> None:
    inv, found = scans["al2"]["inv"], scans["al2"]["found"]
    assert inv.os.ecosystem == "Amazon Linux:2"
    assert {p.name for p in inv.packages} == {"kernel", "bpftool", "qemu-kvm", "qemu-img", "qemu-kvm-common",
                                              "java-1.8.0-openjdk-headless", "rsyslog"}
    assert _by_advisory(found) == {
        # ALAS2-2018-939 fixes kernel in 0:4.9.76-38.79.amzn2; 4.9.75 < 4.9.76. bpftool is not among its 13
        # binary packages, but its source rpm is kernel-4.9.75-25.55.amzn2: matched through the source name.
        "ALAS2-2018-939": {"kernel", "bpftool"},
        # ALAS2-2018-942 fixes qemu-kvm, qemu-img, qemu-kvm-common in 10:1.5.3-141.amzn2.5.3:
        # qemu-kvm/qemu-img 10:1.5.3-140.amzn2 (same epoch and version, release 140 < 141);
        # qemu-kvm-common 2.0.0-1.amzn2 has no epoch: 0 < 10 decides before the higher 2.0.0 is looked at.
        "ALAS2-2018-942": {"qemu-kvm", "qemu-img", "qemu-kvm-common"},
        # not: java-1.8.0-openjdk-headless 1:1.8.0.171 > ALAS2-2018-949's 1:1.8.0.161 (already fixed);
        # rsyslog: its only record, ALAS2023-2023-001, is for Amazon Linux 2023 (another release).
    }
    qi = found[("qemu-img", "ALAS2-2018-942")]
    assert qi.fixed_version == "10:1.5.3-141.amzn2.5.3" and qi.status == "fixed"
    assert found[("kernel", "ALAS2-2018-939")].fixed_version == "4.9.76-38.79.amzn2"  # epoch 0 is not shown
    (d,) = [d for d in found[("bpftool", "ALAS2-2018-939")].details if d.advisory_id == "ALAS2-2018-939"]
    assert (d.package, d.identity, d.ecosystem, d.feed) == ("kernel", "source", "Amazon Linux:2", "amazon")


def test_amazon_linux_2023(scans) -> None:
    inv, found = scans["al2023"]["inv"], scans["al2023"]["found"]
    assert inv.os.ecosystem == "Amazon Linux:2023"
    # ALAS2023-2023-001: rsyslog 0:8.2204.0-3.amzn2023.0.2; installed release 2 < 3. qemu-img 10:1.5.3-140 would
    # be affected by ALAS2-2018-942, but that record is Amazon Linux 2's: no match here.
    assert _by_advisory(found) == {"ALAS2023-2023-001": {"rsyslog"}}
    assert found[("rsyslog", "ALAS2023-2023-001")].fixed_version == "8.2204.0-3.amzn2023.0.2"


def test_oracle_linux_6(scans) -> None:
    inv, found = scans["ol6"]["inv"], scans["ol6"]["found"]
    assert inv.os.ecosystem == "Oracle Linux:6"
    assert _by_advisory(found) == {
        # ELSA-2012-1261 (OL6): dbus, dbus-libs, dbus-x11 … fixed in 1:1.2.24-7.0.1.el6_3.
        # dbus/dbus-libs 1:1.2.24-7.el6_3: release "7.el6_3" vs "7.0.1.el6_3": 7 = 7, then "el" (letters)
        # against "0" (digits): letters sort first, so the installed build is older.
        # dbus-x11 1.6.0-1.el6 carries no epoch: 0 < 1, older although 1.6.0 > 1.2.24.
        "ELSA-2012-1261": {"dbus", "dbus-libs", "dbus-x11"},
        # ELSA-2011-1268 fixes xulrunner in 0:1.9.2.22-1.0.1.el5_7 for OL5 and 0:1.9.2.22-1.0.1.el6_1 for OL6.
        # The installed 1.9.2.22-1.0.1.el5_7 equals the OL5 build, but this is OL6: el5_7 < el6_1 → affected.
        "ELSA-2011-1268": {"xulrunner"},
        # not: bind 30:9.3.3-7.el5 is below ELSA-2007-0057's 30:9.3.3-8.el5, but that ELSA is OL5's only.
    }
    assert found[("dbus-x11", "ELSA-2012-1261")].fixed_version == "1:1.2.24-7.0.1.el6_3"
    assert found[("xulrunner", "ELSA-2011-1268")].fixed_version == "1.9.2.22-1.0.1.el6_1"


def test_oracle_linux_7(scans) -> None:
    inv, found = scans["ol7"]["inv"], scans["ol7"]["found"]
    assert inv.os.ecosystem == "Oracle Linux:7"
    assert _by_advisory(found) == {
        "ELSA-2019-4821": {"sudo"},  # sudo 0:1.8.23-4.0.1.el7; installed release 3 < 4
        # ELSA-2022-4803: rsyslog* for x86_64 at 0:8.24.0-57.0.1.el7_9.3 (aarch64 at .0.4), the lowest kept.
        # rsyslog-crypto 8.24.0-57.el7: "57.el7" vs "57.0.1.el7_9.3": "el" before "0" → older → affected.
        # rsyslog 8.24.0-57.0.2.el7_9.3 > 57.0.1: not affected (the aarch64 .0.4 build must not flag it).
        "ELSA-2022-4803": {"rsyslog-crypto"},
    }


def test_oracle_linux_8_ksplice_fix_does_not_flag_a_regular_build(scans) -> None:
    inv, found = scans["ol8"]["inv"], scans["ol8"]["found"]
    assert inv.os.ecosystem == "Oracle Linux:8"
    assert {(p.name, p.version) for p in inv.packages} == {
        ("openssl", "1:1.1.1g-12.el8_3"), ("openssl-libs", "1:1.1.1g-12.el8_3"), ("osbuild", "110-1.el8")}
    # ELSA-2021-9151 fixes openssl-libs only as 2:1.1.1g-15.ksplice1.el8_3 (a ksplice build): the regular
    # openssl-libs 1:1.1.1g-12.el8_3 would be "earlier" (epoch 1 < 2) yet is not a ksplice build → no match.
    # ELSA-2024-2961 ships osbuild as 0:110-1.el8 and 0:110-1.0.1.el8: the installed 110-1.el8 is the
    # first of them → fixed, no match.
    assert found == {}
