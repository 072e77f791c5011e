"""Java archives: pom.properties, manifests, nested and shaded jars, hostile zips.

Expectations for the testdata/java archives were read by hand with `unzip -l` / `unzip -p …/pom.properties`
(recorded below; maven.war and the gizmo jar are stored without their `*.class` members, every other member
as upstream: testdata/PROVENANCE.md); hostile archives are built in the test with `zipfile`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hullscan.inventory.applier import analyze_files
from hullscan.inventory.java_archive import JavaArchiveAnalyzer, name_from_filename

JAVA = Path(__file__).resolve().parent / "testdata" / "java"  # PROVENANCE.md there
JAR = JAVA / "jar"

# (file, {(name, version, first path suffix)}) — hand-checked from the archives' pom.properties.
EXPECTED = {
    "trivy-parser/nested.jar": {
        ("test:nested", "0.0.1", "nested.jar"),
        ("test:nested2", "0.0.2", "nested.jar:META-INF/jars/nested2.jar"),
        ("test:nested3", "0.0.3", "nested.jar:META-INF/jars/nested2.jar:META-INF/jars/nested3.jar"),
    },
    "trivy-parser/hadoop-shaded-guava-1.1.0-SNAPSHOT.jar": {
        ("org.apache.hadoop.thirdparty:hadoop-shaded-guava", "1.1.0-SNAPSHOT", "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"),
        ("com.google.guava:guava", "29.0-jre", "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"),
        ("com.google.guava:failureaccess", "1.0.1", "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"),
        ("com.google.guava:listenablefuture", "9999.0-empty-to-avoid-conflict-with-guava", "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"),
        ("com.google.j2objc:j2objc-annotations", "1.3", "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar"),
    },
    "trivy-parser/maven.war": {
        ("com.example:web-app", "1.0-SNAPSHOT", "maven.war"),
        ("org.glassfish:javax.el", "3.0.0", "maven.war:WEB-INF/lib/javax.el-3.0.0.jar"),
        ("com.fasterxml.jackson.core:jackson-databind", "2.9.10.6", "maven.war:WEB-INF/lib/jackson-databind-2.9.10.6.jar"),
        ("com.fasterxml.jackson.core:jackson-annotations", "2.9.10", "maven.war:WEB-INF/lib/jackson-annotations-2.9.10.jar"),
        ("com.fasterxml.jackson.core:jackson-core", "2.9.10", "maven.war:WEB-INF/lib/jackson-core-2.9.10.jar"),
        ("org.slf4j:slf4j-api", "1.7.30", "maven.war:WEB-INF/lib/slf4j-api-1.7.30.jar"),
        ("com.cronutils:cron-utils", "9.1.2", "maven.war:WEB-INF/lib/cron-utils-9.1.2.jar"),
        ("org.apache.commons:commons-lang3", "3.11", "maven.war:WEB-INF/lib/commons-lang3-3.11.jar"),
    },
    "trivy-parser/io.quarkus.gizmo.gizmo-1.1.jar": {
        ("io.quarkus.gizmo:gizmo", "1.1", "io.quarkus.gizmo.gizmo-1.1.jar"),
        ("log4j:log4j", "1.2.16", "io.quarkus.gizmo.gizmo-1.1.jar:jars/log4j-1.2.16.jar"),
        ("log4j:log4j", "1.2.17", "io.quarkus.gizmo.gizmo-1.1.jar:jars/log4j-1.2.17.jar"),
    },
    # Only a MANIFEST.MF (Spring 2.5.6.SEC03): version from Implementation-Version.
    "trivy-parser/test.jar": {("org.springframework:core", "2.5.6.SEC03", "test.jar")},
    # No metadata at all: the file name is the last resort.
    "trivy-parser/heuristic-1.0.0-SNAPSHOT.jar": {("heuristic", "1.0.0-SNAPSHOT", "heuristic-1.0.0-SNAPSHOT.jar")},
    "syft/example-java-app-maven-0.1.0.jar": {
        ("org.anchore:example-java-app-maven", "0.1.0", "example-java-app-maven-0.1.0.jar"),
        ("joda-time:joda-time", "2.9.2", "example-java-app-maven-0.1.0.jar"),
    },
    "syft/example-jenkins-plugin.hpi": {
        ("io.jenkins.plugins:example-jenkins-plugin", "1.0-SNAPSHOT", "example-jenkins-plugin.hpi"),
        ("io.jenkins.plugins:example-jenkins-plugin", "1.0-SNAPSHOT", "example-jenkins-plugin.hpi:WEB-INF/lib/example-jenkins-plugin.jar"),
    },
}


def _scan(layer: dict[str, bytes]):
    return analyze_files([JavaArchiveAnalyzer()], [layer])


def test_fixture_archives() -> None:
    for rel, expected in EXPECTED.items():
        inv = _scan({f"/opt/app/{Path(rel).name}": (JAR / rel).read_bytes()})
        assert not inv.warnings, (rel, inv.warnings)
        got = {(p.name, p.version, p.paths[0].removeprefix("/opt/app/")) for p in inv.packages}
        assert got == expected, rel
        for p in inv.packages:
            assert p.ecosystem == "Maven" and p.type == "maven" and p.paths[-1] == f"/opt/app/{Path(rel).name}"


def test_every_java_fixture_parses() -> None:
    root = JAVA
    layer = {f"/x/{p.relative_to(root).as_posix()}": p.read_bytes() for p in root.rglob("*")
             if p.is_file() and (p.suffix in (".jar", ".war", ".hpi") or p.name == "pom.properties")}
    inv = _scan(layer)
    assert not inv.warnings
    names = {(p.name, p.version) for p in inv.packages}
    # exploded jars (pom.properties on disk), hand-checked
    assert {("org.opensaml:opensaml-core", "3.4.6"), ("org.multiple:multiple-matching-2", "2.11.5"),
            ("org.apache.directory.api:api-asn1-api", "2.0.0")} <= names


def test_purl_and_bundle_license() -> None:
    inv = _scan({"/a/gizmo.jar": (JAR / "trivy-parser/io.quarkus.gizmo.gizmo-1.1.jar").read_bytes()})
    log4j = sorted((p for p in inv.packages if p.name == "log4j:log4j"), key=lambda p: p.version)
    assert [p.purl for p in log4j] == ["pkg:maven/log4j/log4j@1.2.16", "pkg:maven/log4j/log4j@1.2.17"]
    assert log4j[0].licenses == ("Apache-2.0",)  # Bundle-License: the Apache 2.0 URL


def _zip(members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_manifest_and_pom_beat_the_file_name() -> None:
    pom = _zip({"META-INF/maven/log4j/log4j/pom.properties": b"groupId=log4j\nartifactId=log4j\nversion=1.2.17\n"})
    mf = _zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nImplementation-Title: log4j\r\n"
                                         b"Implementation-Version: 1.2.17\r\nImplementation-Vendor-Id: log4j\r\n\r\n"})
    inv = _scan({"/usr/share/java/log4j-1.2-1.2.17.jar": pom, "/opt/log4j-1.2-1.2.17.jar": mf})
    assert sorted((p.name, p.version, p.purl) for p in inv.packages) == [
        ("log4j:log4j", "1.2.17", "pkg:maven/log4j/log4j@1.2.17")] * 2
    assert name_from_filename("commons-text-1.10.0.jar") == ("commons-text", "1.10.0")


def test_zip_bomb_and_zip_slip_warn_and_scan_goes_on() -> None:
    bomb_inner = _zip({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "big.bin": b"\0" * (40 * 1024 * 1024)})
    bomb = _zip({"WEB-INF/lib/bomb.jar": bomb_inner + b"\0" * (8 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    slip = _zip({"../../etc/passwd": b"x", "META-INF/maven/g/a/pom.properties": b"groupId=g\nartifactId=a\nversion=1.0\n"})
    good = _zip({"META-INF/maven/g/ok/pom.properties": b"groupId=g\nartifactId=ok\nversion=2.0\n"})
    inv = _scan({"/app/bomb.war": bomb, "/app/slip.jar": slip, "/app/ok.jar": good, "/app/broken.jar": b"PK\3\4garbage"})
    msgs = {w.path: w.message for w in inv.warnings}
    assert "zip bomb" in msgs["/app/bomb.war"]
    assert "zip-slip" in msgs["/app/slip.jar"]
    assert "unreadable" in msgs["/app/broken.jar"]
    assert sorted(p.name for p in inv.packages) == ["g:a", "g:ok"]


def test_nesting_depth_is_capped() -> None:
    data = _zip({"META-INF/maven/g/l5/pom.properties": b"groupId=g\nartifactId=l5\nversion=5\n"})
    for level in range(4, -1, -1):
        data = _zip({f"lib/l{level + 1}.jar": data,
                     f"META-INF/maven/g/l{level}/pom.properties": f"groupId=g\nartifactId=l{level}\nversion={level}\n".encode()})
    inv = _scan({"/d/deep.jar": data})
    assert sorted(p.name for p in inv.packages) == ["g:l0", "g:l1", "g:l2", "g:l3"]
    assert any("deeper than" in w.message for w in inv.warnings)
