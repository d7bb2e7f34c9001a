"""RFC 9457 problem details, as every API error is answered."""

from __future__ import annotations

import marshmallow as ma


class ProblemSchema(ma.Schema):
    type = ma.fields.String(metadata={"example": "urn:hotline:problem:validation-error"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String()
    request_id = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "按字段给出的中文提示"},
    )
