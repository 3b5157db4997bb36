"""Server settings, from `PUSHFLOW_*` environment variables, built at the edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime import config


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUSHFLOW_", extra="ignore")

    home: Path = Field(default_factory=config.home)
    database_url: str | None = None
    api_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = config.DEFAULT_PORT
    # Where runs call back to; defaults to this server's own address.
    api_url: str | None = None
    # Background loops (dispatcher, reconciler). Off on Lambda, where a tick drives them.
    run_loops: bool = True
    loop_interval: float = 0.5
    reconcile_interval: float = 1.0

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'pushflow.db'}"

    @property
    def callback_api_url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}/api"

    @property
    def api_key_file(self) -> Path:
        return self.home / "api_key"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"
