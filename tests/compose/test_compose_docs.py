"""docs/compose.md says what the code does: every image a kind claims, every compose key's treatment."""

from __future__ import annotations

from helpers import REPO

from stackrig.compose._keys import BUILD_KEYS, HEALTHCHECK_KEYS, SERVICE_KEYS, TOP_KEYS, X_STACKRIG_KEYS

DOC = (REPO / "docs" / "compose.md").read_text()


def test_every_image_a_kind_claims_is_in_the_mapping_table(toxiproxy_kind: None) -> None:
    from stackrig.compose._images import image_of_kind
    from stackrig.services import registry

    for kind in registry().all():
        image = image_of_kind(kind)
        if image is None:
            continue
        row = next((line for line in DOC.splitlines() if line.startswith(f"| `{image.images[0]}`")), None)
        assert row is not None, image.images
        assert f"| `{kind.name}` |" in row and image.summary in row
        assert all(f"`{name}`" in row for name in image.images)


def test_every_key_and_its_treatment_is_documented() -> None:
    for table in (TOP_KEYS, SERVICE_KEYS, BUILD_KEYS, HEALTHCHECK_KEYS):
        for key, (_, treatment, why) in table.items():
            assert f"| `{key}` | {treatment} | {why} |" in DOC, key
    for key, (_, meaning) in X_STACKRIG_KEYS.items():
        assert f"| `{key}` |" in DOC and meaning in DOC, key


def test_the_docs_name_the_switch_and_the_limits() -> None:
    assert "stackrig run -f docker-compose.test.yml -- pytest" in DOC
    assert "**`RUN` steps are not executed.**" in DOC
    assert "stackrig import compose docker-compose.test.yml" in DOC
