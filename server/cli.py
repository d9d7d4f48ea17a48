"""The ``playground`` command."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="playground", description="An educational neural-network playground.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the playground page")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    serve.add_argument("--show", action="store_true", help="open the page in a browser")

    bench = commands.add_parser("bench", help="measure speed; prints figures and writes them as JSON")
    bench.add_argument("target", choices=["engine"], nargs="?", default="engine",
                       help="engine: the numpy engine in this Python")
    bench.add_argument("--out", default="bench-results/engine.json", help="where to write the JSON")
    bench.add_argument("--seconds", type=float, default=2.0, help="time spent on each measurement")

    args = parser.parse_args(argv)
    if args.command == "serve":
        from .web import serve as run_server
        run_server(args.host, args.port, show=args.show)
    elif args.command == "bench":
        from playground.bench import run_engine_benchmark
        run_engine_benchmark(args.out, seconds=args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
