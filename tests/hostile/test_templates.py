"""Templates that try to escape the sandbox, spin, or allocate without limit: each is a
located refusal, fast and in bounded memory (regression tests for templating.py's budget)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from provisioner.manifests import templating

from .hostile import MANIFEST, check, located, run_cli

CONTEXT = {
    "sandbox": {"name": "prod", "cloud": "azure", "vars": {}},
    "vars": {"l": list(range(1000))},
    "org": "o",
}

REFUSED = {
    "nested-loops": "{% for a in vars.l %}{% for b in vars.l %}{% for c in vars.l %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "loops-of-output": "{% for a in vars.l %}{% for b in vars.l %}{{ 'x' * 1000 }}"
    "{% endfor %}{% endfor %}",
    "self-calling-macro": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}"
    "{% endmacro %}{{ f(40) }}",
    "recursive-loop": "{% for x in [1,2,3] recursive %}{{ loop([1,2,3]) }}{% endfor %}",
    "replace-filter": "{{ ('x' * 60000)|replace('', 'y' * 60000) }}",
    "replace-method": "{{ ('x' * 60000).replace('', 'y' * 60000) }}",
    "join-filter": "{{ ('x' * 60000)|join('y' * 60000) }}",
    "percent-width": "{{ '%0999999999d' % 1 }}",
    "percent-star": "{{ '%*d' % (99999, 1) }}",
    "format-width": "{{ '{:>999999999}'.format(1) }}",
    "format-map": "{{ '{x}'.format_map({'x': 1}) }}",
    "expandtabs": "{{ ('\\t' * 60000).expandtabs(99999) }}",
    "center": "{{ 'x'.center(99999) }}",
    "list-times": "{{ [vars.l] * 60000 }}",
    "nested-list-print": "{% set a = [vars.l, vars.l] %}{% set b = [a,a,a,a,a,a,a,a,a,a] %}"
    "{{ [b,b,b,b,b,b,b,b,b,b] }}",
    "sort-of-huge-list": "{{ (vars.l * 60)|sort|join }}",
    "power": "{{ 9 ** 9 ** 9 }}",
    "string-times": "{{ 'a' * 10 ** 9 }}",
    "class-walk": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "globals": "{{ self.__init__.__globals__ }}",
    "include": "{% include '/etc/passwd' %}",
    "import": "{% import 'os' as os %}",
    "extends": "{% extends '/etc/passwd' %}",
    "lipsum": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "cycler": "{{ cycler.__init__.__globals__.os.environ }}",
    "range": "{{ range(10 ** 9)|list }}",
    "mro-via-attr": "{{ vars|attr('__class__') }}",
    "unbalanced": "{{ vars.l",
    "unbalanced-block": "{% for x in vars.l %}",
    "comment-unclosed": "{# never closed",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_templates_are_refused_quickly_in_bounded_memory(name: str) -> None:
    tracemalloc.start()
    # CPU time of this process, not the wall clock: a bomb is CPU work, and the suite may
    # share the machine (a wall-clock bound failed under load, never on a real bomb).
    started = time.process_time()
    try:
        with pytest.raises(templating.TemplateError):
            templating.render(REFUSED[name], CONTEXT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.process_time() - started < 5
    assert peak < 32 * 1024 * 1024, f"{peak / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ vars.l|select('string')|join(',') }}", ""),
        ("{{ ['a', None, 'b']|select('string')|join(',') }}", "a,b"),
        ("{% for x in ['a', 'b']|reject('none') %}{{ loop.index }}{{ x }}{% endfor %}", "1a2b"),
        ("{{ 'a-b'.replace('-', '+') }}|{{ '%05d' % 7 }}|{{ 'x' * 3 }}", "a+b|00007|xxx"),
        ("{{ vars.l|length }} {{ vars.l|first }}", "1000 0"),
    ],
)
def test_ordinary_templates_still_render(source: str, expected: str) -> None:
    assert templating.render(source, CONTEXT) == expected


def test_a_spinning_template_in_a_manifest_is_a_located_error(tmp_path: Path) -> None:
    # Was 36 s and 11.7 GB for five nested loops printing 60,000 characters each.
    text = MANIFEST.replace(
        "database: orders",
        'database: "{% for a in vars.l %}{% for b in vars.l %}{% endfor %}{% endfor %}"',
    ).replace(
        "  domain: db.example.test\n", "  domain: db.example.test\n  l: [" + "1," * 999 + "1]\n"
    )
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    run = run_cli(["validate", str(path)])
    check(run)
    assert located(run) == [
        f"{path}:22:17: $.connections[0].auth.database: template refused by the sandbox: "
        "more than 250000 steps of work (sandboxes 'prod', 'dev')"
    ]
