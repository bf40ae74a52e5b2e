"""``python -m gateway``: the gateway as a process, with JSON logs, on ``TOCHUC_GATEWAY_PORT``."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.settings import GatewaySettings
from shared.logs import configure_logging


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=settings.port_of("gateway"),
        log_config=None,  # uvicorn's records go to the JSON handler configured above
        access_log=False,  # the gateway logs each request itself, with its request id
    )


if __name__ == "__main__":
    main()
