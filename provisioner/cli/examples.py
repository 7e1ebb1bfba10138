"""The examples at the foot of each `--help` page: the commands a user types first.

Kept apart from the options (parser.py) so each page's examples read as one block; the
parser parses every example (tests/test_help.py), so none names an option that is gone.
"""

from __future__ import annotations

MAIN = """\
examples:
  provision validate configs/                 check manifests offline
  provision render configs/ --sandbox prod    the payloads that would be sent (secrets masked)
  provision plan configs/ --format markdown   what apply would create (read-only)
  provision apply configs/ --auto-approve     create what is missing, update what drifted
  provision apply configs/ --auto-approve --rotate-secrets --sandbox prod --connection 'orders-*'
                                              re-send rotated database passwords
  provision apply configs/ --auto-approve --prune
                                              also delete what the manifests' prune: claims
  provision import --org ORG --sandbox prod --out teams/imported.yaml
                                              adopt connections made by hand
  provision verify configs/ --explore         do the connections work? (API /test)
  provision verify configs/ --direct          connect to each database from here
  provision completion bash                   tab completion for your shell

environment: AEP_CLIENT_ID, AEP_CLIENT_SECRET (plan/apply), AEP_SCOPES, AEP_IMS_URL,
AEP_PLATFORM_URL. `provision emulator` prints the values that point at a local emulator.
Manifests in several orgs: AEP_CLIENT_ID__<ORG> / AEP_CLIENT_SECRET__<ORG> give one org its
own credential (<ORG>: the org id before @AdobeOrg); the others use AEP_CLIENT_ID/SECRET.
"""

VALIDATE = """\
examples:
  provision validate configs/                  every manifest under configs/
  provision validate -q configs/ && echo ok    silent unless something is wrong
  provision validate configs/ --format json    diagnostics for editors and bots
  cat team.yaml | provision validate -         one manifest from standard input
"""

RENDER = """\
examples:
  provision render configs/ --sandbox prod                the payloads for one sandbox
  provision render configs/ --connection 'orders-*'       only some connections
  provision render configs/ --show-secrets | less         with the secrets (never in CI)
"""

PLAN = """\
examples:
  provision plan configs/                                 what apply would do
  provision plan configs/ --format markdown               a pull-request comment
  provision plan configs/ --out plan.json --detailed-exitcode
                                                          save it; exit 2 when changes wait
  provision plan configs/ --prune -v                      what --prune would delete, and
                                                          every connection left alone
"""

APPLY = """\
examples:
  provision apply configs/ --auto-approve                 create and update, no question
  provision apply --plan plan.json                        exactly the reviewed plan
  provision apply configs/ --auto-approve --format json   what was done, for machines
  provision apply configs/ --auto-approve --rotate-secrets --sandbox prod
                                                          re-send the secrets of one sandbox
  provision apply configs/ --auto-approve --prune --verify
                                                          delete what prune: claims, then
                                                          test what was created
"""

IMPORT = """\
examples:
  provision import --org 0123456789ABCDEF01234567@AdobeOrg --sandbox prod --out teams/prod.yaml
  provision import --org ORG --sandbox prod --sandbox dev --connection 'orders-*' \\
      --out teams/orders.yaml --force
"""

VERIFY = """\
examples:
  provision verify configs/ --sandbox prod --format markdown
  provision verify configs/ --explore        # and the tables each one sees
  provision verify configs/ --direct --ca-file corp-ca.pem --connect-timeout 3
"""

COMPLETION = """\
examples:
  provision completion bash > ~/.local/share/bash-completion/completions/provision
  provision completion zsh > "${fpath[1]}/_provision"     # then restart zsh
  provision completion fish > ~/.config/fish/completions/provision.fish
  eval "$(provision completion bash)"                     # this shell only
"""
