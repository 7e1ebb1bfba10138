from __future__ import annotations

import pytest

from provisioner.errors import ManifestError
from provisioner.manifests.load import load_text


def data(text: str) -> object:
    return load_text(text, "m.yaml").data


def errors(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_text(text, "m.yaml")
    return [str(d) for d in caught.value.diagnostics]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NO", "NO"),
        ("on", "on"),
        ("yes", "yes"),
        ("0755", "0755"),
        ("007", "007"),
        ("2024-01-02", "2024-01-02"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("1e3", "1e3"),
        (".inf", ".inf"),
        ("12", 12),
        ("-3", -3),
        ("0", 0),
        ("1.5", 1.5),
        ("true", True),
        ("false", False),
        ("~", None),
        ("null", None),
        ('"12"', "12"),
        ("!!str 12", "12"),
        ("'on'", "on"),
    ],
)
def test_scalars_never_silently_change(text: str, value: object) -> None:
    assert data(f"key: {text}\n") == {"key": value}


def test_keys_keep_their_text() -> None:
    assert data("on: 1\n1: x\nnull: y\n") == {"on": 1, "1": "x", "null": "y"}


def test_duplicate_keys_are_errors_naming_both_lines() -> None:
    assert errors("a: 1\nb:\n  c: 1\n  c: 2\n") == [
        "m.yaml:4:3: $.b.c: duplicate key 'c' (first defined at line 3); keep only one"
    ]


def test_anchors_and_aliases_expand() -> None:
    assert data("x: &a {k: v}\ny: *a\n") == {"x": {"k": "v"}, "y": {"k": "v"}}


def test_alias_bomb_is_bounded() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    found = errors("\n".join(lines) + "\n")
    assert len(found) == 1
    assert "too large: more than 250000 values, counting each use of a YAML alias" in found[0]


def test_deep_nesting_is_bounded() -> None:
    found = errors("a: " + "[" * 100 + "]" * 100 + "\n")
    assert "nested deeper than 64 levels" in found[0]


def test_merge_keys_and_foreign_tags_are_refused() -> None:
    assert errors("base: &b {x: 1}\nc:\n  <<: *b\n") == [
        "m.yaml:3:3: $.c: YAML merge keys (<<) are not supported; write the keys out"
    ]
    assert errors("x: !!python/name:os.system\n") == [
        "m.yaml:1:4: $.x: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'; "
        "remove the tag"
    ]
    assert "unsupported YAML tag '!vault'" in errors("x: !vault abc\n")[0]


def test_syntax_errors_are_located() -> None:
    assert errors("a: [1, 2\n") == ["m.yaml:2:1: $: invalid YAML: did not find expected ',' or ']'"]


def test_several_documents_are_refused() -> None:
    assert errors("a: 1\n---\nb: 2\n") == [
        "m.yaml:2:1: $: invalid YAML: holds several YAML documents; keep one manifest per file"
    ]


def test_comment_only_file_is_empty() -> None:
    assert "the file is empty" in errors("# nothing here\n")[0]


def test_locate_points_at_keys_and_values() -> None:
    document = load_text("a:\n  b: [x, {c: 1}]\n", "m.yaml")
    assert str(document.locate(("a", "b", 1, "c"))) == "m.yaml:2:14"
    assert str(document.locate(("a", "b", 1, "c"), key=True)) == "m.yaml:2:11"
    assert str(document.locate(("a", "missing"))) == "m.yaml:2:3"
