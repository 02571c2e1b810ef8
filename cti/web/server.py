"""Serves the web application with gunicorn: one worker process, many threads (each open live page holds one
thread for its WebSocket), so that the live hub and the ACD desk are shared by every page of the process."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from hotline.config import Config


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Config) -> None:
        self.hotline_config = config
        super().__init__()

    def load_config(self) -> None:
        web = self.hotline_config.web
        settings: dict[str, Any] = {
            "bind": f"{web.host}:{web.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": web.threads,
            # A worker that stops answering its arbiter for this long is restarted; requests may run longer.
            "timeout": 60,
            "graceful_timeout": 2,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "hotline-web",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cti.web import create_app
        from cti.web.wiring import build

        return create_app(self.hotline_config, build(self.hotline_config))


def serve(config: Config) -> None:
    _Gunicorn(config).run()
