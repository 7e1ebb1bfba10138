"""Manifests come from pull requests: templates must not run code, read files or blow up."""

from __future__ import annotations

import pytest

from provisioner.manifests.templating import TemplateError, render

CONTEXT = {
    "sandbox": {"name": "prod", "cloud": "azure", "vars": {"tier": "gold"}},
    "vars": {"domain": "db.example.com", "tier": "gold"},
    "org": "0123456789ABCDEF01234567@AdobeOrg",
}


def test_renders_the_documented_context() -> None:
    assert render("pg-{{ sandbox.name }}.{{ vars.domain }}", CONTEXT) == "pg-prod.db.example.com"
    assert render("{{ sandbox.cloud }}/{{ sandbox.vars.tier }}/{{ org[:4] }}", CONTEXT) == (
        "azure/gold/0123"
    )
    assert render("{{ sandbox.name | upper | replace('-', '_') }}", CONTEXT) == "PROD"
    assert render("plain {text}", CONTEXT) == "plain {text}"


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ self._TemplateReference__context }}",
        "{{ self.__init__.__globals__ }}",
        "{{ config.items() }}",
        "{{ request.application.__globals__.__builtins__.__import__('os') }}",
        "{{ vars.__class__.__init__.__globals__ }}",
        "{{ sandbox.name.format.__globals__ }}",
        "{{ '{0.__class__.__mro__}'.format(vars) }}",
        "{% include '/etc/passwd' %}",
        "{% import '/etc/passwd' as x %}",
        "{% extends '/etc/passwd' %}",
        "{{ range.__self__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ 'a' * 100000000 }}",
        "{{ [1] * 100000000 }}",
        "{{ 9 ** 9 ** 9 }}",
        "{{ 'x'.center(1000000000) }}",
        "{{ 'x' | truncate(1000000000) }}",
        "{{ range(100000000) | list }}",
        "{% set a = 'aaaaaaaaaaaaaaaa' %}{{ (a * 4096) | replace('a', a) }}",
    ],
)
def test_sandbox_escapes_and_bombs_are_refused(payload: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(payload, CONTEXT)
    assert "/root" not in str(caught.value) and "uid=" not in str(caught.value)


def test_undefined_names_are_errors() -> None:
    with pytest.raises(TemplateError, match=r"^undefined name: 'domian'$"):
        render("{{ vars.domian }}", CONTEXT)
    with pytest.raises(TemplateError, match=r"^undefined name: 'nope'$"):
        render("{{ nope }}", CONTEXT)


def test_syntax_errors() -> None:
    with pytest.raises(TemplateError, match="template syntax error"):
        render("{{ sandbox.name ", CONTEXT)
