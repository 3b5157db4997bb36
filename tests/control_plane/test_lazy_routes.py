"""Route modules load on the first request that could reach them (control_plane/lazy_routes.py):
every route stays reachable, a process loads only what its requests need, and the route
table ends up in the order including everything up front gives, whatever order requests
came in."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from control_plane.app import create_app
from control_plane.lazy_routes import LazyRoutes, Placeholder, lazy_routes
from control_plane.settings import Settings
from tests.conftest import ADMIN_KEY


def _app(tmp_path: Path) -> Any:
    from control_plane.local import create_local_app

    settings = Settings(home=tmp_path / "home", api_key=ADMIN_KEY, run_loops=False, dispatch_on_trigger=False)
    return create_local_app(settings)


def _route_paths(router: Any, prefix: str) -> list[str]:
    return [prefix + route.path for route in router.routes if isinstance(route, APIRoute)]


def _example(template: str) -> str:
    """A request path the route template matches: each parameter filled in."""
    return re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+(:(str|int|uuid))?\}", "1", template))


def test_every_route_is_reached_by_the_paths_its_module_declares() -> None:
    """A route whose path its module does not declare would answer 404 until some other
    request loaded the module: each route's paths (with or without a trailing slash, which
    the router redirects) must load it."""
    routes: LazyRoutes = lazy_routes(create_app(Settings(api_key="k", server_secret="s" * 32)))
    unreached = []
    for placeholder in routes.pending:
        spec = placeholder.spec
        router = importlib.import_module(spec.module).router
        for template in _route_paths(router, spec.prefix):
            path = _example(template)
            toggled = path[:-1] if path.endswith("/") else path + "/"
            for candidate in (path, toggled) if path != "/" else (path,):
                if not spec.reaches(candidate):
                    unreached.append(f"{spec.module}: {template} ({candidate})")
    assert unreached == []
    assert len(routes.pending) == 24  # 16 API modules and 8 UI page modules, none loaded yet


def test_requests_in_any_order_build_the_table_that_loading_everything_builds(tmp_path: Path) -> None:
    eager = _app(tmp_path / "a")
    lazy_routes(eager).load_all()
    lazy = _app(tmp_path / "b")
    # One request to each module, the last module first, interleaved with the first ones.
    requests = []
    for placeholder in lazy_routes(lazy).pending:
        module = importlib.import_module(placeholder.spec.module)
        route = next(r for r in module.router.routes if isinstance(r, APIRoute))
        requests.append((sorted(route.methods)[0], _example(placeholder.spec.prefix + route.path)))
    requests = [request for pair in zip(reversed(requests), requests, strict=True) for request in pair]
    with TestClient(lazy, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        for method, path in requests:
            status = client.request(method, path, follow_redirects=False).status_code
            assert status < 500 and status != 405, (method, path, status)  # a 405 would load everything
    assert lazy_routes(lazy).pending == []

    def table(app: Any) -> list[tuple[str, str | None, int]]:
        # Module routers are shared by both apps: the same router in the same place.
        return [
            (type(r).__name__, getattr(r, "path", None), id(getattr(r, "original_router", None))) for r in app.routes
        ]

    assert table(lazy) == table(eager)
    assert not any(isinstance(route, Placeholder) for route in lazy.routes)


def test_a_path_no_route_has_loads_nothing_and_answers_404(tmp_path: Path) -> None:
    app = _app(tmp_path)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        response = client.get("/api/nothing-here")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
        assert len(lazy_routes(app).pending) == 24


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("DELETE", "/api/pools", "GET, POST"), ("PUT", "/api/automations", "GET, POST")],
)
def test_a_405_on_a_module_not_loaded_yet_names_every_method_of_the_path(
    tmp_path: Path, method: str, path: str, allowed: str
) -> None:
    with TestClient(_app(tmp_path), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        response = client.request(method, path)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed


LOADS_SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from control_plane.local import create_local_app
from control_plane.settings import Settings

def routes():
    return sorted(m for m in sys.modules if m.startswith(("control_plane.routes.", "control_plane.ui.")))

settings = Settings(home=sys.argv[1], api_key="k", run_loops=False, dispatch_on_trigger=False)
app = create_local_app(settings)
seen = {"create_app": routes()}
with TestClient(app, headers={"Authorization": "Bearer k"}) as client:
    assert client.get("/api/health").status_code == 200
    seen["health"] = routes()
    assert client.get("/api/pools").status_code == 200
    seen["pools"] = routes()
print(json.dumps(seen))
"""


def test_a_process_imports_a_route_module_only_when_a_request_reaches_it(tmp_path: Path) -> None:
    """What a cold start pays for: building the app imports no route module but health's,
    and a request loads its own module, not the UI or the automations."""
    done = subprocess.run(
        [sys.executable, "-c", LOADS_SCRIPT, str(tmp_path / "home")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    always = [
        "control_plane.routes.health",
        "control_plane.ui.deps",
        "control_plane.ui.headers",
        "control_plane.ui.session",
    ]
    assert seen["create_app"] == always
    assert seen["health"] == always
    assert "control_plane.routes.pools" in seen["pools"]
    assert [m for m in seen["pools"] if m not in always] == ["control_plane.routes.pools"]
