"""Barcode labels for new copies: Code 128 (what library scanners read) drawn by python-barcode.

Each label is an SVG image in a data: URI: the page's Content-Security-Policy (no inline styles) does
not reach inside an image, and the page needs no extra request per label.
"""

import base64
import io

import barcode
from barcode.writer import SVGWriter


def code128_data_uri(code):
    drawing = io.BytesIO()
    barcode.get("code128", code, writer=SVGWriter()).write(
        drawing, options={"write_text": False, "module_width": 0.3, "module_height": 12, "quiet_zone": 3})
    return "data:image/svg+xml;base64," + base64.b64encode(drawing.getvalue()).decode()
