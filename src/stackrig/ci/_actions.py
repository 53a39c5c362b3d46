"""The GitHub Actions the generated workflow uses, pinned by full commit SHA.

A tag can be moved to other code; a commit SHA cannot, so the workflow names each action by the
commit its release tag points at, with the tag in a comment (``# v7.0.1``) — the form Dependabot's
``github-actions`` ecosystem and Renovate recognise and keep updated.  The SHAs below are the
commits of these tags in the actions' repositories; update them here when the actions release.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Pin", "ACTIONS", "CHECKOUT", "SETUP_PYTHON", "CACHE", "UPLOAD_ARTIFACT", "DOWNLOAD_ARTIFACT"]


@dataclass(frozen=True)
class Pin:
    """An action at one commit: ``uses: <repo>@<sha>  # <tag>``."""

    repo: str
    sha: str
    tag: str

    @property
    def uses(self) -> str:
        return f"{self.repo}@{self.sha}"

    def __post_init__(self) -> None:
        if len(self.sha) != 40 or any(c not in "0123456789abcdef" for c in self.sha):
            raise ValueError(f"{self.repo}: a pin is a full 40-hex commit SHA, found {self.sha!r}")


CHECKOUT = Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1")
SETUP_PYTHON = Pin("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0")
CACHE = Pin("actions/cache", "27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5")
UPLOAD_ARTIFACT = Pin("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0")
DOWNLOAD_ARTIFACT = Pin("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1")

ACTIONS: dict[str, Pin] = {p.repo: p for p in (CHECKOUT, SETUP_PYTHON, CACHE, UPLOAD_ARTIFACT, DOWNLOAD_ARTIFACT)}
