"""Fixed hostile YAML: each must end in exit 0 or 1 with located messages, in bounded
memory, for `validate` and `render` alike."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from provisioner.manifests import load as yamlload

from .hostile import MANIFEST, check, located, run_cli

PEAK_BYTES = 64 * 1024 * 1024


def _bomb(leaf: str, levels: int = 6, width: int = 12) -> str:
    lines = [f"a0: &a0 [{', '.join([leaf] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _in_vars(snippet: str) -> str:
    return MANIFEST.replace(
        "vars:\n", "vars:\n" + "".join(f"  {s}\n" for s in snippet.splitlines()), 1
    )


CASES: dict[str, str | bytes] = {
    "empty": "",
    "only-comment": "# nothing\n",
    "null-document": "~\n",
    "scalar-document": "just text\n",
    "list-document": "- 1\n- 2\n",
    "several-documents": MANIFEST + "---\n" + MANIFEST,
    "document-end-then-junk": MANIFEST + "...\nmore: junk\n",
    "yaml-directive": "%YAML 1.1\n---\n" + MANIFEST,
    "tag-directive": "%TAG !e! tag:example.com,2000:\n---\n"
    + MANIFEST.replace("org:", "org: !e!x", 1),
    "python-object": MANIFEST.replace(
        "database: orders", "database: !!python/object/apply:os.system [id]"
    ),
    "python-name": MANIFEST.replace("database: orders", "database: !!python/name:os.system"),
    "python-module": "!!python/module:os\n",
    "custom-tag": MANIFEST.replace("database: orders", "database: !vault orders"),
    "tagged-mapping": MANIFEST.replace(
        "password: {env: ORDERS_PG_PASSWORD}", "password: !secret {env: X}"
    ),
    "binary-tag": MANIFEST.replace("database: orders", "database: !!binary aGVsbG8="),
    "set-tag": MANIFEST.replace("database: orders", "database: !!set {a, b}"),
    "merge-key": MANIFEST.replace(
        "  - name: billing\n", "  - <<: {name: billing}\n    name: billing\n"
    ),
    "merge-key-alias": _in_vars("base: &b {x: 1}\nother: {<<: *b}"),
    "alias-bomb": _in_vars(_bomb('"lol"')),
    "alias-bomb-of-tags": _in_vars(_bomb("!t x")),
    "alias-bomb-of-deep-lists": _in_vars(_bomb("[" * 70 + "]" * 70, levels=5, width=20)),
    "alias-to-undefined-anchor": _in_vars("x: *nowhere"),
    "alias-as-key": _in_vars("k: &k key\n*k : v"),
    "recursive-alias": _in_vars("x: &x [*x]"),
    "complex-key": _in_vars("? [a, b]\n: v"),
    "mapping-key": _in_vars("{a: 1}: v"),
    "null-key": _in_vars("~: v"),
    "int-key": _in_vars("1: v"),
    "duplicate-keys": MANIFEST.replace("version: 1\n", "version: 1\nversion: 1\n"),
    "deep-flow-list": _in_vars("deep: " + "[" * 500 + "]" * 500),
    "deep-flow-map": _in_vars("deep: " + "{a: " * 500 + "1" + "}" * 500),
    "unbalanced-brackets": _in_vars("x: " + "[" * 2000),
    "huge-int": _in_vars("big: " + "9" * 5000),
    "huge-negative-int": MANIFEST.replace("port: 5432", "port: -" + "9" * 5000),
    "huge-float": _in_vars("f: 1.0e+99999\ng: -1.0e+99999\nn: .nan"),
    "huge-string": _in_vars("s: " + "x" * 200_000),
    "huge-key": _in_vars("k" * 100_000 + ": v"),
    "long-line-of-keys": _in_vars("m: {" + ", ".join(f"k{i}: {i}" for i in range(20_000)) + "}"),
    "tabs-for-indent": MANIFEST.replace("    cloud: azure\n", "\tcloud: azure\n", 1),
    "cr-only-newlines": MANIFEST.replace("\n", "\r"),
    "crlf-newlines": MANIFEST.replace("\n", "\r\n"),
    "unicode-line-separators": MANIFEST.replace("\n", "\u2028"),
    "nel-newlines": MANIFEST.replace("\n", "\x85"),
    "bom": "\ufeff" + MANIFEST,
    "bom-twice": "\ufeff\ufeff" + MANIFEST,
    "bom-mid-file": MANIFEST.replace("sandboxes:", "\ufeffsandboxes:", 1),
    "nul-byte": MANIFEST.replace("orders", "ord\x00ers", 1),
    "nul-escape": MANIFEST.replace('"orders-{{ sandbox.name }}"', '"ord\\0ers"'),
    "escape-in-key": _in_vars('"a\\nb": 1\n"\\0": 2\n"\\u202e": 3'),
    "control-escapes": MANIFEST.replace("database: orders", 'database: "\\x01\\x1b[31m\\t"'),
    "surrogate-escape": MANIFEST.replace("database: orders", 'database: "\\ud800"'),
    "surrogate-pair-escape": MANIFEST.replace("database: orders", 'database: "\\ud83d\\ude00"'),
    "rtl-override": MANIFEST.replace("database: orders", "database: \u202eredro\u202c"),
    "rtl-text-name": MANIFEST.replace('"orders-{{ sandbox.name }}"', "שלום-\u0627\u0644"),
    "emoji": MANIFEST.replace("database: orders", "database: 🐘🔥👨‍👩‍👧"),
    "zero-width": MANIFEST.replace("name: billing", "name: bil\u200bling"),
    "non-characters": MANIFEST.replace("database: orders", "database: \ufffe\uffff"),
    "invalid-utf8": MANIFEST.encode().replace(b"orders", b"ord\xff\xfeers", 1),
    "latin1": MANIFEST.replace("orders", "ördérs").encode("latin-1"),
    "utf16": MANIFEST.encode("utf-16"),
    "utf16-no-bom": MANIFEST.encode("utf-16-le"),
    "truncated-utf8": MANIFEST.encode() + "é".encode()[:1],
    "overlong-utf8": MANIFEST.encode().replace(b"orders", b"\xc0\xafrders", 1),
    "encoded-surrogate": MANIFEST.encode().replace(b"orders", b"\xed\xa0\x80", 1),
    "binary-garbage": bytes(range(256)) * 4,
    "key-with-newline": MANIFEST.replace("version: 1", '"ver\\nsion": 1'),
    "anchor-on-everything": MANIFEST.replace("  - name: billing", "  - &c name: &n billing"),
    "literal-password": MANIFEST.replace("{env: ORDERS_PG_PASSWORD}", "hunter2hunter2"),
    "tool-credential": MANIFEST.replace("ORDERS_PG_PASSWORD", "AEP_CLIENT_SECRET"),
    "tool-credential-lowercase": MANIFEST.replace("ORDERS_PG_PASSWORD", "aep_client_secret"),
    "secret-file-escape": MANIFEST.replace("secrets/crm.txt", "../../../etc/shadow"),
    "secret-file-absolute": MANIFEST.replace("secrets/crm.txt", "/etc/shadow"),
    "secret-file-nul": MANIFEST.replace("secrets/crm.txt", '"a\\0b"'),
    "secret-templated-escape": MANIFEST.replace("secrets/crm.txt", "'{{ \"../\" * 8 }}etc/passwd'"),
    "sandboxes-a-number": MANIFEST.replace(
        "sandboxes:\n  - name: prod", "sandboxes: 1\nx:\n  - name: prod"
    ),
    "sandboxes-a-mapping": MANIFEST.replace(
        "sandboxes:\n  - name: prod", "sandboxes: {a: 1}\nx:\n  - name: prod"
    ),
    "sandboxes-a-string": MANIFEST.replace(
        "sandboxes:\n  - name: prod", "sandboxes: prod\nx:\n  - name: prod"
    ),
    "env-name-injection": MANIFEST.replace("ORDERS_PG_PASSWORD", "'A;B $(id)'"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "render"])
def test_hostile_yaml_ends_cleanly_in_bounded_memory(
    tmp_path: Path, name: str, command: str
) -> None:
    content = CASES[name]
    path = tmp_path / "m.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass", newline="")
    tracemalloc.start()
    try:
        run = run_cli([command, str(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check(run)
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_an_alias_bomb_of_tagged_values_reports_each_tag_once(tmp_path: Path) -> None:
    # Was 1.9 million diagnostics, 90 s and 1.3 GB: every alias re-reported the tags.
    run = run_cli(["validate", write(tmp_path, _in_vars(_bomb("!t x", levels=7, width=10)))])
    check(run)
    messages = sorted(line.split(": ", 1)[1] for line in located(run))
    assert messages == [
        *(f"$.vars.a0[{i}]: unsupported YAML tag '!t'; remove the tag" for i in range(10)),
        "$.vars.a5[1][1][3][8][8][4]: too large: more than 250000 values, counting each use "
        "of a YAML alias; split the manifest, or write the values out instead of nesting anchors",
    ]


def test_a_too_deep_value_behind_aliases_is_reported_once_per_depth(tmp_path: Path) -> None:
    # One list, 70 deep, reached at three depths: three nodes cross the limit, once each.
    run = run_cli(["validate", write(tmp_path, _in_vars(_bomb("[" * 70 + "]" * 70, 3, 5)))])
    check(run)
    messages = [line.rsplit(": ", 1)[1] for line in located(run)]
    assert messages == ["nested deeper than 64 levels"] * 15


def test_a_number_too_long_for_int_is_a_located_error(tmp_path: Path) -> None:
    # Was an internal error: int() refuses more than 4300 digits.
    path = write(tmp_path, MANIFEST.replace("port: 5432", "port: " + "9" * 5000, 1))
    run = run_cli(["validate", path])
    check(run)
    assert located(run) == [
        f"{path}:20:13: $.connections[0].auth.port: the number is too long; quote it if it is text"
    ]


def test_a_file_over_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    # A 10 MB list of `1,` took 1.6 GB to compose before any other bound applied.
    path = write(tmp_path, "[" + "1," * yamlload.MAX_FILE_BYTES + "1]\n")
    tracemalloc.start()
    try:
        run = run_cli(["validate", path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check(run)
    assert located(run) == [f"{path}:1:1: $: larger than 4 MiB; split it into several manifests"]
    assert peak < 8 * 1024 * 1024


def test_the_valid_manifest_is_valid(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    run = run_cli(["validate", write(tmp_path, MANIFEST)])
    check(run, allowed=[0])


def test_a_key_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, MANIFEST.replace("version: 1", '"ver\\nsion\\u202e\\x85": 1'))
    run = run_cli(["validate", path])
    check(run)
    assert (
        f"{path}:1:1: $[\"ver\\nsion\\u202e\\x85\"]: unknown key 'ver\\nsion\\u202e\\x85'; "
        "did you mean 'version'?"
    ) in located(run)


def test_a_forbidden_character_is_located_on_its_line(tmp_path: Path) -> None:
    # Was a three-line message at 1:1; libyaml counts the position in UTF-8 bytes.
    path = write(tmp_path, 'a: ééé\r\nb: "x\x00y"\n')
    run = run_cli(["validate", path])
    check(run)
    assert located(run) == [
        f"{path}:2:6: $: invalid YAML: control characters are not allowed #x0000; "
        "remove that character"
    ]


def test_a_file_name_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "pr\n\x1b[2Jevil.yaml").write_text("x: 1\n", encoding="utf-8")
    run = run_cli(["validate", str(tmp_path)])
    check(run)
    assert located(run)[0].startswith(f"{tmp_path}/pr\\n\\x1b[2Jevil.yaml:1:1: $: ")


def test_an_invalid_cloud_is_not_echoed_by_the_cross_file_check(tmp_path: Path) -> None:
    head = "version: 1\norg: 0123456789ABCDEF01234567@AdobeOrg\nconnections: []\n"
    (tmp_path / "a.yaml").write_text(head + 'sandboxes: [{name: p, cloud: "a\\nb"}]\n')
    (tmp_path / "b.yaml").write_text(head + "sandboxes: [{name: p, cloud: [1]}]\n")
    run = run_cli(["validate", str(tmp_path)])
    check(run)
    assert [line.split(": ", 2)[2] for line in located(run)] == [
        '"a\\nb" is not one of: azure, aws',
        "a list (1 item) is not one of: azure, aws",
    ]


def test_sandboxes_that_are_not_a_list_are_a_schema_error(tmp_path: Path) -> None:
    # Was an internal error (TypeError: 'int' object is not iterable) in the cross-file
    # cloud check, which ran over documents the schema had refused; found by the soak run.
    path = write(
        tmp_path, MANIFEST.replace("sandboxes:\n  - name: prod", "sandboxes: 1\nx:\n  - name: prod")
    )
    run = run_cli(["validate", path])
    check(run)
    assert f"{path}:5:12: $.sandboxes: expected a list, got 1" in located(run)
