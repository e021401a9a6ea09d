"""`python -m server serve` with a SIGTERM sent to itself from inside its start-up: `python -m tests.serve_child PHASE`.

PHASE is the Sanic listener event the signal is sent from (before_server_start: still starting; after_server_start:
the last moment before it serves, where Sanic's own handler already runs). Settings come from the environment.
"""
import os
import signal
import sys

from server import __main__ as cli
from server import app as server_app


def main(phase: str) -> int:
    create_app = server_app.create_app

    def with_signal(*args, **kwargs):
        app = create_app(*args, **kwargs)

        async def terminate_self(app):
            os.kill(os.getpid(), signal.SIGTERM)

        app.register_listener(terminate_self, phase)
        return app

    server_app.create_app = with_signal
    return cli.main(["serve"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
