"""Putting the plan where reviewers read it, for the GitHub Action (`action.yml`) and the
GitLab CI/CD components (`templates/`).

    steps    run validate / plan / apply as the pipeline would, collect counts and text
    sticky   one comment per pull request, found by a hidden marker, edited on every push
    rest     the small JSON-over-HTTP seam both forges share (403 kept apart: forks)
    github   issue comments, step outputs and the job summary
    gitlab   merge-request notes and a dotenv report
    signals  validate's diagnostics as annotations on the diff; GitLab's Terraform report
    issues   a repository's open issues on each forge
    drift    on a schedule: one issue while the sandboxes differ from the manifests

It lives in the package, not in `scripts/`, because the action and the components install
provision from a wheel or a git ref and run `python -m provisioner.ci.github` (or `.gitlab`):
the code that posts the comment is the version of the tool that made the plan, type-checked
and tested with it. It talks to the forge's API, never to Adobe's.
"""
