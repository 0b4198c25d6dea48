"""JSON for the most read lists, encoded by orjson from rows whose shape the schemas already document."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response


def json_rows(rows: list[dict[str, Any]]) -> Response:
    # flask-smorest passes a Response through untouched, so the marshmallow schema on the route still
    # documents the shape while the rows (exactly the schema's fields) skip a field-by-field dump.
    return Response(orjson.dumps(rows), mimetype="application/json")
