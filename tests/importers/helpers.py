"""Folders of images for the importer tests and the import commands' tests: A1111 PNGs with
and without parameters, damaged and foreign files; every tool's format."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from runlake.testing import images
from tests.records.helpers import sample_blocks


def save_png(path: Path, parameters: str | None, color: str = "navy") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    info = PngInfo()
    if parameters is not None:
        info.add_text("parameters", parameters)
    Image.new("RGB", (16, 24), color).save(path, format="PNG", pnginfo=info)
    return path


def make_folder(tmp_path: Path, samples: Path) -> Path:
    """Four A1111 PNGs with parameters; one without, a truncated one, a JPEG photo (no
    metadata) and a text file (not an image)."""
    root = tmp_path / "outputs"
    blocks = sample_blocks(samples)
    save_png(root / "fox.png", blocks[0], "red")
    save_png(root / "2026-03-20" / "lighthouse.PNG", blocks[1], "blue")
    save_png(root / "2026-03-20" / "sailor.png", blocks[2], "green")
    # Not Latin-1: Pillow stores it in an iTXt chunk, as the WebUI does.
    save_png(root / "unicode.png", "富士山の夕焼け\nSteps: 20, Sampler: Euler a, CFG scale: 7",
             "white")
    save_png(root / "edited-in-gimp.png", None)  # no parameters
    (root / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    Image.new("RGB", (4, 4)).save(root / "photo.jpg")  # a photo: no generation metadata
    (root / "notes.txt").write_text("not an image")
    return root


def write_catalogue(root: Path) -> Path:
    """Every tool's format (``runlake.testing.images.catalogue``) plus a StableNew output and
    an Image-Saver JPEG, as files."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in images.catalogue().items():
        (root / name).write_bytes(data)
    (root / "stablenew_output.png").write_bytes(images.stablenew_output_png())
    (root / "image_saver.jpg").write_bytes(images.image_saver_jpeg(images.IMAGE_SAVER,
                                                                   *images.comfy_two_pass()))
    return root
