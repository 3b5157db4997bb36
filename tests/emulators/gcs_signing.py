"""A front for gcp-storage-emulator that does what the emulator does not: authenticate.

gcp-storage-emulator serves signed-URL paths (`/bucket/object`) but checks no signature
and no token. This front, on its own port, holds a service account (an RSA key made
here, written as a key file whose `token_uri` is the front) and:

- `POST /token`: the OAuth 2.0 JWT-bearer grant a service account uses
  (RFC 7523; "Using OAuth 2.0 for Server to Server Applications"): the assertion must
  be signed by the service account's key, from its email, for Google's token audience;
  answers an access token.
- a request carrying `X-Goog-Signature`: checked as Google's "V4 signing process"
  documents it -- algorithm GOOG4-RSA-SHA256, the credential naming the service account
  and a `<date>/<location>/storage/goog4_request` scope, not expired (`X-Goog-Date` +
  `X-Goog-Expires`, at most 7 days), and an RSA-SHA256 signature over
  `GOOG4-RSA-SHA256\\n<date>\\n<scope>\\n<sha256 of the canonical request>`, where the
  canonical request is method, path, the sorted percent-encoded query without the
  signature, the signed headers (lower-case `name:value` lines), their names, and
  `UNSIGNED-PAYLOAD`. A bad signature is 403 SignatureDoesNotMatch, an expired URL 400
  ExpiredToken, as XML errors like Cloud Storage's XML API answers them.
- any other request must carry the access token (`Authorization: Bearer`), else 401.

What passes is forwarded unchanged to the emulator.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

EMAIL = "pushflow-tests@pushflow.iam.gserviceaccount.com"
ACCESS_TOKEN = "ya29.emulator-front-token"
MAX_EXPIRES = 7 * 24 * 3600
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


class SigningFront:
    def __init__(self, emulator_url: str, key_dir: Path) -> None:
        self.emulator_url = emulator_url.rstrip("/")
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._key.public_key()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.key_file = key_dir / "service-account.json"
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        key = {
            "type": "service_account",
            "project_id": "pushflow",
            "private_key_id": "emulator-front-key",
            "private_key": pem,
            "client_email": EMAIL,
            "client_id": "1",
            "token_uri": f"{self.url}/token",
        }
        self.key_file.write_text(json.dumps(key))
        self.refused: list[str] = []  # why each refused request was refused
        self._thread = threading.Thread(target=self._server.serve_forever, name="gcs-front", daemon=True)

    def start(self) -> SigningFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # checks -------------------------------------------------------------------------

    def token_problem(self, form: dict[str, list[str]]) -> str | None:
        import google.auth.jwt

        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return "unsupported grant_type"
        public = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        try:
            # The assertion's `aud` is Google's token endpoint, wherever it is sent
            # ("Using OAuth 2.0 for Server to Server Applications": the JWT claim set).
            claims = google.auth.jwt.decode(form["assertion"][0], certs=public, audience=GOOGLE_TOKEN_AUDIENCE)
        except (KeyError, ValueError) as exc:
            return f"invalid assertion: {exc}"
        return None if claims.get("iss") == EMAIL else "assertion from an unknown service account"

    def signature_problem(self, method: str, raw_path: str, raw_query: str, headers: Any) -> tuple[int, str] | None:
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        if query.get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256":
            return 400, "AuthorizationQueryParametersError"
        email, _, scope = query.get("X-Goog-Credential", "").partition("/")
        parts = scope.split("/")
        date = query.get("X-Goog-Date", "")
        if email != EMAIL or len(parts) != 4 or parts[2:] != ["storage", "goog4_request"] or parts[0] != date[:8]:
            return 400, "AuthorizationQueryParametersError"
        try:
            signed_at = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            expires = int(query["X-Goog-Expires"])
        except (KeyError, ValueError):
            return 400, "AuthorizationQueryParametersError"
        now = datetime.datetime.now(datetime.timezone.utc)
        if expires > MAX_EXPIRES or now > signed_at + datetime.timedelta(seconds=expires):
            return 400, "ExpiredToken"
        names = query.get("X-Goog-SignedHeaders", "").split(";")
        canonical_headers = "".join(f"{n}:{' '.join((headers.get(n) or '').split())}\n" for n in names)
        canonical_query = "&".join(
            sorted(f"{_encode(k)}={_encode(v)}" for k, v in query.items() if k != "X-Goog-Signature")
        )
        canonical_request = "\n".join(
            [method, raw_path, canonical_query, canonical_headers, ";".join(names), "UNSIGNED-PAYLOAD"]
        )
        digest = hashlib.sha256(canonical_request.encode()).hexdigest()
        string_to_sign = "\n".join(["GOOG4-RSA-SHA256", date, scope, digest])
        try:
            signature = binascii.unhexlify(query.get("X-Goog-Signature", ""))
            self.public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (binascii.Error, InvalidSignature):
            return 403, "SignatureDoesNotMatch"
        return None


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _xml_error(code: str) -> bytes:
    return f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()


def _handler(front: SigningFront) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            if split.path == "/token" and self.command == "POST":
                problem = front.token_problem(parse_qs(body.decode()))
                if problem:
                    front.refused.append(problem)
                    return self._answer(400, json.dumps({"error": "invalid_grant"}).encode(), "application/json")
                token = {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                return self._answer(200, json.dumps(token).encode(), "application/json")
            if "X-Goog-Signature" in split.query:
                refused = front.signature_problem(self.command, split.path, split.query, self.headers)
                if refused:
                    front.refused.append(refused[1])
                    return self._answer(refused[0], _xml_error(refused[1]), "application/xml")
            elif self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                front.refused.append("no access token")
                return self._answer(401, json.dumps({"error": {"code": 401}}).encode(), "application/json")
            forwarded = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            with httpx.Client(timeout=60) as client:
                answer = client.request(self.command, front.emulator_url + self.path, content=body, headers=forwarded)
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.content)

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve

    return Handler


@contextlib.contextmanager
def signing_gcs(emulator_env: dict[str, str], key_dir: Path) -> Iterator[dict[str, str]]:
    """In front of a running gcp-storage-emulator; yields the environment a client needs:
    STORAGE_EMULATOR_HOST (the front) and GOOGLE_APPLICATION_CREDENTIALS (the key file)."""
    front = SigningFront(emulator_env["STORAGE_EMULATOR_HOST"], key_dir).start()
    try:
        yield {"STORAGE_EMULATOR_HOST": front.url, "GOOGLE_APPLICATION_CREDENTIALS": str(front.key_file)}
    finally:
        front.stop()
