"""`/api/docs`: Swagger UI from assets shipped in this package (swagger-ui-dist, pinned in
static/swagger-ui/VERSION), started by a script file so the page needs no inline script."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pushflow API</title>
<link rel="stylesheet" href="/ui/static/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/ui/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/ui/static/js/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/api/docs")
def swagger_ui() -> HTMLResponse:
    return HTMLResponse(_PAGE)
