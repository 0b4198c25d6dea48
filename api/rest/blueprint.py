"""The flask-smorest blueprint every API area uses."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask_smorest.utils import resolve_schema_instance


class Blueprint(flask_smorest.Blueprint):
    """Argument schemas are instantiated once, when the route is declared.

    Given a schema class, webargs builds a new instance on every request, which costs about as much
    as parsing the arguments; a marshmallow schema keeps no state between loads, so one is shared.
    """

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        return super().arguments(resolve_schema_instance(schema), *args, **kwargs)
