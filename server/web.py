"""The web server: the Panel page (and, later, the REST and websocket endpoints)."""
from __future__ import annotations

import panel as pn

from playground.app.page import TITLE, create_page


def serve(host: str, port: int, *, show: bool = False) -> None:
    origins = [f"{name}:{port}" for name in {host, "localhost", "127.0.0.1"}]
    print(f"Serving the playground at http://{host}:{port}/ (Ctrl+C stops it)", flush=True)
    pn.serve({"/": create_page}, address=host, port=port, show=show, title=TITLE,
             websocket_origin=origins, threaded=False)
