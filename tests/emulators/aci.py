"""A protocol-faithful fake of the ARM `Microsoft.ContainerInstance` API, over TLS.

The real `azure-mgmt-containerinstance` client talks to it. What it honours:
- PUT a container group: 201 + `Azure-AsyncOperation`; the operation answers InProgress,
  then Succeeded (or Failed, for an image that cannot be pulled); the client then GETs
  the group. A PUT of an existing group answers 200 and starts nothing new.
- DELETE: 202 + `Location`; the location answers 202, then 204 and the group is gone.
- POST `.../stop`: 204; the containers are killed.
- GET a group: `instanceView` and each container's `currentState`, from the
  ContainerSimulator process that runs what was submitted (Terminated + exitCode).
- GET `.../containers/{name}/logs` → `{"content": ...}`.
- Errors are ARM-shaped: `{"error": {"code", "message"}}`; `secureValue` and registry
  passwords are never echoed back.
- Container events as ACI reports them ("Retrieve container logs and events",
  https://learn.microsoft.com/azure/container-instances/container-instances-get-logs): a
  healthy container shows Pulling ("pulling image ...") and Pulled ("Successfully pulled
  image ...") events, then Created and Started. An image that cannot be pulled shows
  Pulling, then Failed ("Failed to pull image ...") and BackOff events, and the container
  stays Waiting with ErrImagePull ("Troubleshoot common issues: Unable to pull image",
  https://learn.microsoft.com/azure/container-instances/container-instances-troubleshooting).
- A PUT of an existing group is an update: "When you update a container group, all
  running containers in the group are restarted in-place" ("Update containers in Azure
  Container Instances", https://learn.microsoft.com/azure/container-instances/container-instances-update).
  So a PUT re-sent after its answer was lost starts the run a second time.
- ARM finishes a delete it accepted (202) whether or not anyone polls its Location.
- Unknown properties are refused with 400 InvalidRequestContent ("Could not find member
  ..."), as ARM's deserializer does, so a misspelt field fails in tests.
- Volumes: the group's `volumes[]` (name + one of azureFile, emptyDir, secret, gitRepo)
  and each container's `volumeMounts[]` (name, mountPath, readOnly), with the members of
  the 2023-05-01 schema; an azureFile volume needs shareName and storageAccountName, a
  mount must name a declared volume, and `storageAccountKey` is never returned.
  Provisioning mounts an Azure Files share registered in `file_shares["account/share"] =
  (key, host folder)`; a share that does not exist or a wrong key fails the group
  ("Mount an Azure file share in Azure Container Instances").
- Hooks: `fail_next(...)` answers the next matching requests with a transient error;
  `lose_answer(...)` carries the next matching request out, then answers 500 (its answer
  was lost); `stall()` keeps new groups provisioning; `inaccessible_images` are refused
  at PUT (400 InaccessibleImage, as ACI does for a public image that does not exist);
  `unpullable_images` fail while provisioning.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.emulators.tls import make_certificate
from tests.simulator import ContainerSimulator

_GROUP = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.ContainerInstance/containerGroups/(?P<name>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_OPERATION = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.ContainerInstance/locations/"
    r"(?P<loc>[^/]+)/(?P<kind>operations|operationResults)/(?P<op>[^/]+)$",
    re.IGNORECASE,
)
_LOGS = re.compile(r"^/containers/(?P<container>[^/]+)/logs$", re.IGNORECASE)
_VALID_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*$")


class FakeCredential:
    """A TokenCredential: the fake only checks that a bearer token arrives."""

    scopes_asked: list[str] = []  # every scope a token was asked for, by any instance

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        FakeCredential.scopes_asked.extend(scopes)
        return AccessToken("fake-aci-token", int(time.time()) + 3600)


def fake_credential() -> FakeCredential:
    """Factory for the `credential` job variable (`tests.emulators.aci:fake_credential`)."""
    return FakeCredential()


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


@dataclasses.dataclass
class FakeGroup:
    id: str
    body: dict[str, Any]  # as PUT, secrets included
    provisioning: str = "Creating"  # Creating | Succeeded | Failed | Deleting
    operation_polls: int = 0
    delete_polls: int = 0
    stopped: bool = False
    failure: dict[str, str] | None = None
    deleting_since: float | None = None
    created_at: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.body["properties"]["containers"])


@dataclasses.dataclass
class _Fault:
    status: int
    code: str
    times: int
    method: str | None
    path_contains: str | None


class AciFake:
    def __init__(self, simulator: ContainerSimulator, tls_dir: Path) -> None:
        self.simulator = simulator
        self.certificate = make_certificate(tls_dir)
        self.groups: dict[str, FakeGroup] = {}  # by lower-cased resource id
        self.operations: dict[str, tuple[str, str]] = {}  # op id -> (kind, group id)
        self.submissions: list[dict[str, Any]] = []  # every PUT body, as received
        self.restarts: list[str] = []  # groups a PUT updated (restarting their containers)
        self.events_served: dict[str, list[str]] = {}  # group name -> event names it has shown
        self.requests: list[tuple[str, str]] = []
        self.injected: list[tuple[str, str, int]] = []
        self.inaccessible_images: set[str] = set()
        self.unpullable_images: set[str] = set()
        self.file_shares: dict[str, tuple[str, Path]] = {}  # "account/share" -> (account key, host folder)
        self._faults: list[_Fault] = []
        self._lost: list[_Fault] = []
        self.stalled = False
        self._stopping: list[Any] = []  # containers to stop once the current request lets go
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.socket = self.certificate.server_context().wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="aci-fake", daemon=True)

    @property
    def ca_bundle(self) -> str:
        return str(self.certificate.cert_path)

    def __enter__(self) -> AciFake:
        self._thread.start()
        threading.Thread(target=self._tick_forever, name="aci-fake-ticker", daemon=True).start()
        return self

    def _tick_forever(self) -> None:
        while not self._closed.wait(0.05):
            with self._lock:
                self._finish_deletes()

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        code: str = "ServiceUnavailable",
    ) -> None:
        """Answer the next `times` matching requests with an ARM error of `status`."""
        with self._lock:
            self._faults.append(_Fault(status, code, times, method, path_contains))

    def lose_answer(self, *, method: str | None = None, path_contains: str | None = None) -> Any:
        """A context manager: inside it, the next matching request is carried out, then
        answered 500 (the real answer was lost on the way back)."""
        fault = _Fault(500, "InternalServerError", 1, method, path_contains)

        @contextlib.contextmanager
        def losing() -> Iterator[None]:
            with self._lock:
                self._lost.append(fault)
            try:
                yield
            finally:
                fault.times = 0

        return losing()

    @contextlib.contextmanager
    def stall(self) -> Iterator[None]:
        """While inside, new groups keep provisioning (their operation stays InProgress)."""
        self.stalled = True
        try:
            yield
        finally:
            self.stalled = False

    def live_groups(self) -> list[str]:
        """Names of groups that exist (not deleted, nor being deleted)."""
        with self._lock:
            self._finish_deletes()
            return [g.id.rsplit("/", 1)[1] for g in self.groups.values() if g.provisioning != "Deleting"]

    def group(self, name: str) -> FakeGroup | None:
        with self._lock:
            return next((g for g in self.groups.values() if g.id.rsplit("/", 1)[1] == name), None)

    # -- request handling -------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        answer = self._answer(method, path, query, body)
        with self._lock:
            for fault in self._lost:
                if (
                    fault.times > 0
                    and fault.method in (None, method)
                    and (fault.path_contains is None or fault.path_contains in path)
                ):
                    fault.times -= 1
                    answer = _error(500, "InternalServerError", "The answer was lost (injected).")
                    break
        with self._lock:
            stopping, self._stopping = self._stopping, []
        for container in stopping:  # outside the lock: a container may take seconds to stop
            container.stop()
        return answer

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self._finish_deletes()
            self.requests.append((method, path))
            for fault in self._faults:
                if (
                    fault.times > 0
                    and (fault.method in (None, method))
                    and (fault.path_contains is None or fault.path_contains in path)
                ):
                    fault.times -= 1
                    self.injected.append((method, path, fault.status))
                    return _error(
                        fault.status,
                        fault.code,
                        "The service is temporarily unavailable (injected).",
                    )
            if "api-version" not in query:
                return _error(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter is required.",
                )
            if match := _OPERATION.match(path):
                return self._operation(match["kind"], match["op"])
            match = _GROUP.match(path)
            if match is None:
                return _error(404, "InvalidResourceType", f"No route for {method} {path}.")
            group_id = path[: len(path) - len(match["rest"] or "")]
            rest = match["rest"] or ""
            if method == "PUT" and not rest:
                return self._create(group_id, match["rg"], match["name"], body, query["api-version"])
            group = self.groups.get(group_id.lower())
            if group is None or (group.provisioning == "Deleting" and method != "DELETE"):
                if method == "DELETE" and not rest:
                    return 204, {}, None
                return _error(
                    404,
                    "ResourceNotFound",
                    f"The Resource 'Microsoft.ContainerInstance/containerGroups/{match['name']}' "
                    f"under resource group '{match['rg']}' was not found.",
                )
            if method == "GET" and not rest:
                return 200, {}, self._view(group)
            if method == "DELETE" and not rest:
                return self._delete(group, query["api-version"])
            if method == "POST" and rest.lower() == "/stop":
                self._stop(group)
                return 204, {}, None
            if method == "GET" and (logs := _LOGS.match(rest)):
                return self._logs(group, logs["container"], query.get("tail"))
            return _error(405, "MethodNotAllowed", f"{method} {rest} is not supported by this fake.")

    def _create(
        self, group_id: str, rg: str, name: str, body: Any, api_version: str
    ) -> tuple[int, dict[str, str], Any]:
        problem = _unknown_member(body)
        if problem:
            return _error(400, "InvalidRequestContent", problem)
        existing = self.groups.get(group_id.lower())
        if existing is not None and existing.provisioning != "Deleting":
            self.submissions.append(copy.deepcopy(body))
            self._restart(existing)  # an update restarts the containers in place
            return 200, {}, self._view(existing)
        if len(name) > 63 or not _VALID_NAME.match(name) or name.endswith("-"):
            return _error(
                400,
                "InvalidContainerGroupName",
                f"The container group name '{name}' is invalid: use 1-63 lowercase letters, "
                "digits and single hyphens, not starting or ending with a hyphen.",
            )
        problem = _validate(body)
        if problem:
            return _error(400, "InvalidRequestContent", problem)
        self.submissions.append(copy.deepcopy(body))
        for container in body["properties"]["containers"]:
            image = container["properties"]["image"]
            if image in self.inaccessible_images:
                return _error(
                    400,
                    "InaccessibleImage",
                    f"The image '{image}' in container group '{name}' is not accessible. "
                    "Please check the image and registry credential.",
                )
        group = FakeGroup(id=group_id, body=copy.deepcopy(body))
        self.groups[group_id.lower()] = group
        op = uuid.uuid4().hex
        self.operations[op] = ("create", group_id.lower())
        sub = group_id.split("/")[2]
        location = body["location"]
        headers = {
            "Azure-AsyncOperation": f"{self.url}/subscriptions/{sub}"
            "/providers/Microsoft.ContainerInstance/locations/"
            f"{location}/operations/{op}?api-version={api_version}"
        }
        return 201, headers, self._view(group)

    def _operation(self, kind: str, op: str) -> tuple[int, dict[str, str], Any]:
        found = self.operations.get(op)
        if found is None:
            return _error(404, "OperationNotFound", f"Operation {op} was not found.")
        _, group_key = found
        group = self.groups.get(group_key)
        if kind.lower() == "operationresults":  # a delete's Location
            if group is not None and group.delete_polls == 0:
                group.delete_polls += 1
                return 202, {}, None
            self.groups.pop(group_key, None)
            return 204, {}, None
        if group is None:
            return _error(404, "ResourceNotFound", "The container group was deleted.")
        group.operation_polls += 1
        if group.operation_polls == 1 or (self.stalled and group.provisioning == "Creating"):
            return 200, {}, {"id": op, "status": "InProgress", "startTime": _now()}
        if group.provisioning == "Creating":
            self._provision(group)
        if group.provisioning == "Failed":
            return 200, {}, {"id": op, "status": "Failed", "error": group.failure}
        return 200, {}, {"id": op, "status": "Succeeded", "endTime": _now()}

    def _provision(self, group: FakeGroup) -> None:
        for container in group.containers:
            image = container["properties"]["image"]
            if image in self.unpullable_images:
                group.provisioning = "Failed"
                group.failure = {
                    "code": "InaccessibleImage",
                    "message": f"Failed to pull image '{image}': manifest unknown.",
                }
                return
        shares = {}
        for volume in group.body["properties"].get("volumes") or []:
            share = volume.get("azureFile")
            if share is None:
                continue
            where = f"{share['storageAccountName']}/{share['shareName']}"
            known = self.file_shares.get(where)
            if known is None or known[0] != share.get("storageAccountKey"):
                group.provisioning = "Failed"
                group.failure = {
                    "code": "FailedToMountAzureFileVolume",
                    "message": f"Failed to mount Azure File Volume {volume['name']!r}: share {where} not found "
                    "or the storage account key is wrong.",
                }
                return
            shares[volume["name"]] = known[1]
        group.provisioning = "Succeeded"
        for container in group.containers:
            props = container["properties"]
            env = {e["name"]: e.get("secureValue", e.get("value", "")) for e in props.get("environmentVariables", [])}
            mounts = {m["mountPath"]: shares[m["name"]] for m in props.get("volumeMounts") or [] if m["name"] in shares}
            self.simulator.start(self._key(group, container["name"]), props.get("command") or [], env, mounts)

    def _restart(self, group: FakeGroup) -> None:
        self.restarts.append(group.id.rsplit("/", 1)[1])
        if group.provisioning != "Succeeded":
            return
        group.stopped = False
        for container in group.containers:
            simulated = self.simulator.get(self._key(group, container["name"]))
            if simulated is not None:
                simulated.stop()
            props = container["properties"]
            env = {e["name"]: e.get("secureValue", e.get("value", "")) for e in props.get("environmentVariables", [])}
            self.simulator.start(self._key(group, container["name"]), props.get("command") or [], env)

    def _finish_deletes(self) -> None:
        """ARM goes on with what it accepted, polled or not: provisioning and deletes."""
        for group in list(self.groups.values()):
            if group.provisioning == "Creating" and not self.stalled and time.monotonic() - group.created_at > 0.05:
                self._provision(group)
        for key, group in list(self.groups.items()):
            if group.deleting_since is not None and time.monotonic() - group.deleting_since > 0.2:
                del self.groups[key]

    def _stop(self, group: FakeGroup) -> None:
        group.stopped = True
        for container in group.containers:
            simulated = self.simulator.get(self._key(group, container["name"]))
            if simulated is not None:
                self._stopping.append(simulated)

    def _delete(self, group: FakeGroup, api_version: str) -> tuple[int, dict[str, str], Any]:
        self._stop(group)
        group.provisioning = "Deleting"
        group.deleting_since = time.monotonic()
        op = uuid.uuid4().hex
        self.operations[op] = ("delete", group.id.lower())
        return 202, {"Location": self._location(group, op) + f"?api-version={api_version}"}, None

    def _location(self, group: FakeGroup, op: str) -> str:
        sub, location = group.id.split("/")[2], group.body["location"]
        return (
            f"{self.url}/subscriptions/{sub}/providers/Microsoft.ContainerInstance/locations/"
            f"{location}/operationResults/{op}"
        )

    def _logs(self, group: FakeGroup, container: str, tail: str | None) -> tuple[int, dict[str, str], Any]:
        simulated = self.simulator.get(self._key(group, container))
        content = simulated.output if simulated is not None else ""
        if tail:
            content = "".join(content.splitlines(keepends=True)[-int(tail) :])
        return 200, {}, {"content": content}

    def _key(self, group: FakeGroup, container: str) -> str:
        return f"{group.id}/containers/{container}"

    def _view(self, group: FakeGroup) -> dict[str, Any]:
        view = copy.deepcopy(group.body)
        props = view["properties"]
        for cred in props.get("imageRegistryCredentials", []):
            cred.pop("password", None)
        for volume in props.get("volumes", []):
            (volume.get("azureFile") or {}).pop("storageAccountKey", None)
        states = []
        for container in props["containers"]:
            for env in container["properties"].get("environmentVariables", []):
                env.pop("secureValue", None)
            current = self._current_state(group, container["name"])
            states.append(current["state"])
            container["properties"]["instanceView"] = {
                "restartCount": 0,
                "currentState": current,
                "events": self._served(group, self._events(group, container["properties"]["image"], current)),
            }
        props["provisioningState"] = group.provisioning if group.provisioning != "Creating" else "Pending"
        props["instanceView"] = {"state": _group_state(group, states), "events": []}
        view.update(
            id=group.id,
            name=group.id.rsplit("/", 1)[1],
            type="Microsoft.ContainerInstance/containerGroups",
        )
        return view

    def _current_state(self, group: FakeGroup, container: str) -> dict[str, Any]:
        if group.provisioning == "Failed":
            return {"state": "Waiting", "detailStatus": "ErrImagePull"}
        if group.provisioning == "Creating" and self.stalled:
            return {"state": "Waiting", "detailStatus": "ContainerCreating"}
        simulated = self.simulator.get(self._key(group, container))
        if simulated is None:
            return {"state": "Waiting", "detailStatus": "ContainerCreating"}
        code = simulated.exit_code
        if code is None:
            return {"state": "Running", "startTime": _now(), "detailStatus": ""}
        if code < 0:  # killed by a signal: a container runtime reports 128 + signal
            code = 128 - code
        detail = "Killed" if group.stopped else ("Completed" if code == 0 else "Error")
        return {
            "state": "Terminated",
            "exitCode": code,
            "detailStatus": detail,
            "startTime": _now(),
            "finishTime": _now(),
        }

    def _served(self, group: FakeGroup, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = self.events_served.setdefault(group.id.rsplit("/", 1)[1], [])
        seen += [e["name"] for e in events if e["name"] not in seen]
        return events

    def _events(self, group: FakeGroup, image: str, current: dict[str, Any]) -> list[dict[str, Any]]:
        def event(name: str, message: str, kind: str = "Normal") -> dict[str, Any]:
            stamp = _now()
            return {
                "count": 1,
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "name": name,
                "message": message,
                "type": kind,
            }

        if group.provisioning == "Creating" and current["state"] == "Waiting":
            return []
        events = [event("Pulling", f'pulling image "{image}"')]
        if group.failure:
            return [
                *events,
                event("Failed", f'Failed to pull image "{image}": {group.failure["message"]}', "Warning"),
                event("BackOff", f'Back-off pulling image "{image}"', "Normal"),
            ]
        events.append(event("Pulled", f'Successfully pulled image "{image}"'))
        if current["state"] in ("Running", "Terminated"):
            events += [event("Created", "Created container"), event("Started", "Started container")]
        return events


def _group_state(group: FakeGroup, states: list[str]) -> str:
    if group.stopped:
        return "Stopped"
    if group.provisioning == "Failed":
        return "Failed"
    if states and all(s == "Terminated" for s in states):
        return "Succeeded"
    return "Running" if "Running" in states else "Pending"


def _validate(body: Any) -> str | None:
    if not isinstance(body, dict) or "location" not in body:
        return "The request content must be a container group with a 'location'."
    containers = body.get("properties", {}).get("containers") or []
    if not containers:
        return "A container group needs at least one container."
    for container in containers:
        props = container.get("properties", {})
        if not props.get("image"):
            return f"Container '{container.get('name')}' has no image."
        requests = props.get("resources", {}).get("requests", {})
        if "cpu" not in requests or "memoryInGB" not in requests:
            return f"Container '{container.get('name')}' needs resources.requests cpu and memoryInGB."
    if body["properties"].get("osType") not in ("Linux", "Windows"):
        return "The osType property is required (Linux or Windows)."
    return _validate_volumes(body["properties"])


def _validate_volumes(props: dict[str, Any]) -> str | None:
    names = set()
    for volume in props.get("volumes") or []:
        name = volume.get("name")
        if not name or name in names:
            return f"Volume names must be set and unique: {name!r}."
        names.add(name)
        sources = [k for k in ("azureFile", "emptyDir", "secret", "gitRepo") if k in volume]
        if len(sources) != 1:
            return f"Volume '{name}' must have exactly one of azureFile, emptyDir, secret or gitRepo."
        share = volume.get("azureFile")
        if share is not None and not (share.get("shareName") and share.get("storageAccountName")):
            return f"Volume '{name}': azureFile needs shareName and storageAccountName."
    for container in props.get("containers") or []:
        for mount in container.get("properties", {}).get("volumeMounts") or []:
            if not mount.get("mountPath"):
                return f"Container '{container.get('name')}': a volume mount needs a mountPath."
            if mount.get("name") not in names:
                name = container.get("name")
                return f"Container '{name}' mounts volume '{mount.get('name')}', which the group does not define."
    return None


# Members ARM deserializes (Microsoft.ContainerInstance/containerGroups, 2023-05-01);
# anything else is refused. Nested objects below these levels are not checked.
_MEMBERS = {
    "group": {"location", "tags", "identity", "properties", "zones", "name", "id", "type"},
    "properties": {
        "containers",
        "initContainers",
        "imageRegistryCredentials",
        "restartPolicy",
        "ipAddress",
        "osType",
        "volumes",
        "diagnostics",
        "subnetIds",
        "dnsConfig",
        "sku",
        "encryptionProperties",
        "extensions",
        "confidentialComputeProperties",
        "priority",
        "provisioningState",
        "instanceView",
    },
    "container": {"name", "properties"},
    "container.properties": {
        "image",
        "command",
        "ports",
        "environmentVariables",
        "resources",
        "volumeMounts",
        "livenessProbe",
        "readinessProbe",
        "securityContext",
        "instanceView",
    },
    "environmentVariable": {"name", "value", "secureValue"},
    "volume": {"name", "azureFile", "emptyDir", "secret", "gitRepo"},
    "azureFile": {"shareName", "readOnly", "storageAccountName", "storageAccountKey"},
    "volumeMount": {"name", "mountPath", "readOnly"},
}


def _unknown_member(body: Any) -> str | None:
    def check(obj: Any, kind: str, type_name: str) -> str | None:
        if not isinstance(obj, dict):
            return None
        extra = sorted(set(obj) - _MEMBERS[kind])
        if extra:
            return (
                "The request content was invalid and could not be deserialized: "
                f"'Could not find member '{extra[0]}' on object of type '{type_name}'."
            )
        return None

    problem = check(body, "group", "ContainerGroup") or check(
        body.get("properties"), "properties", "ContainerGroupProperties"
    )
    for container in (body.get("properties") or {}).get("containers") or []:
        problem = problem or check(container, "container", "Container")
        props = container.get("properties") or {}
        problem = problem or check(props, "container.properties", "ContainerProperties")
        for env in props.get("environmentVariables") or []:
            problem = problem or check(env, "environmentVariable", "EnvironmentVariable")
        for mount in props.get("volumeMounts") or []:
            problem = problem or check(mount, "volumeMount", "VolumeMount")
    for volume in (body.get("properties") or {}).get("volumes") or []:
        problem = problem or check(volume, "volume", "Volume")
        problem = problem or check(volume.get("azureFile"), "azureFile", "AzureFileVolume")
    return problem


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"error": {"code": code, "message": message}}


def _handler_for(fake: AciFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                status, headers, body = _error(401, "AuthenticationFailed", "Authentication failed: no bearer token.")
            else:
                try:
                    body_in = json.loads(raw) if raw else None
                except ValueError:
                    status, headers, body = _error(400, "InvalidRequestContent", "The body is not JSON.")
                else:
                    status, headers, body = fake.handle(self.command, url.path, query, body_in)
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-ms-request-id", uuid.uuid4().hex)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

    return Handler
