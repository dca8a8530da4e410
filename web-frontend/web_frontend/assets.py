"""htmx, pinned: from its CDN with a Subresource Integrity hash, or a local copy of the very same file.

`vendor_htmx()` fetches the pinned version from the npm registry into
static/vendor/ and refuses a file whose hash differs from the pin (make does this for you).
"""

import base64
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HTMX_VERSION = "2.0.11"
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
HTMX_CDN_URL = f"https://unpkg.com/htmx.org@{HTMX_VERSION}/dist/htmx.min.js"
LOCAL_HTMX = Path(__file__).parent / "static" / "vendor" / "htmx.min.js"


def integrity(data):
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def vendor_htmx():
    with tempfile.TemporaryDirectory() as workdir:
        subprocess.run(["npm", "pack", f"htmx.org@{HTMX_VERSION}", "--silent"], cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL)
        with tarfile.open(Path(workdir) / f"htmx.org-{HTMX_VERSION}.tgz") as archive:
            data = archive.extractfile("package/dist/htmx.min.js").read()
    if integrity(data) != HTMX_INTEGRITY:
        sys.exit(f"htmx {HTMX_VERSION} from npm does not match the pinned integrity hash")
    LOCAL_HTMX.parent.mkdir(parents=True, exist_ok=True)
    LOCAL_HTMX.write_bytes(data)
    print(f"htmx {HTMX_VERSION} -> {LOCAL_HTMX}")
