"""Draw the app icon (resources/icons/stillroom.png, 512 px) with Pillow.

The design: a still pond seen from above, a ring and a drop on a deep-teal tile. The SVG next
to it (stillroom.svg, for the Linux desktop) is the same drawing written by hand. Run again
only to change the design; the PNG is committed.

    .venv/bin/python packaging/draw_icon.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 512
SCALE = 4  # drawn large, then downsampled: smooth edges without an antialiasing API
OUT = Path(__file__).resolve().parent.parent / "resources" / "icons" / "stillroom.png"


def draw() -> Image.Image:
    big = SIZE * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [v * SCALE for v in (x0, y0, x1, y1)]

    pen.rounded_rectangle(box(32, 32, 480, 480), radius=96 * SCALE, fill=(31, 95, 91, 255))
    pen.ellipse(box(116, 116, 396, 396), outline=(236, 244, 240, 255), width=28 * SCALE)
    pen.ellipse(box(186, 186, 326, 326), outline=(236, 244, 240, 150), width=16 * SCALE)
    pen.ellipse(box(236, 236, 276, 276), fill=(236, 244, 240, 255))
    return image.resize((SIZE, SIZE), Image.LANCZOS)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT, optimize=True)
    print(f"wrote {OUT}")
