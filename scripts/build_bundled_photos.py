"""Write the bundled photos in assets/photos/ from scikit-image's sample data (run once; the app reads the JPEGs).

    python -m pip install scikit-image==0.26.0 && python scripts/build_bundled_photos.py

Only this script needs scikit-image; the app and the tests read the JPEGs with Pillow.
"""

from pathlib import Path

import skimage.data
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "assets" / "photos"
PHOTOS = ["chelsea", "coffee", "astronaut", "rocket"]  # licences: assets/photos/README.md
MAX_SIDE = 512

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        img = Image.fromarray(getattr(skimage.data, name)())
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        path = OUT / f"{name}.jpg"
        img.save(path, quality=85, optimize=True)
        print(f"{path.name}: {img.size[0]}x{img.size[1]}, {path.stat().st_size / 1e3:.0f} kB")
