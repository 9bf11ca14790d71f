"""Runner images: content-hash tags, and old builds cleared away."""

from runner import BUILTIN
from runner.docker.images import built_here, image_ref, init_ref, list_images, remove_stale_images


def test_every_language_image_is_built_under_its_content_tag(sandbox):
    statuses = list_images(sandbox.backend.api)
    assert [s.language for s in statuses] == ["python", "javascript", "bash", "c"]
    assert all(s.present and s.ref == image_ref(BUILTIN[s.language]) for s in statuses)
    assert len({image_ref(lang).split(":")[1] for lang in built_here()}) == len(built_here())


def test_stale_tags_are_removed_and_current_ones_kept(sandbox):
    sandbox.backend.api.tag(image_ref(BUILTIN["bash"]), "tui-sandbox-bash", "000000000000")
    removed = remove_stale_images(sandbox.backend.api)
    assert "tui-sandbox-bash:000000000000" in removed
    tags = {t for image in sandbox.backend.api.images() for t in image.get("RepoTags") or []}
    assert image_ref(BUILTIN["bash"]) in tags and init_ref() in tags
    assert "tui-sandbox-bash:000000000000" not in tags
