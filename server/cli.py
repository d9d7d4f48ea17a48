"""The ``playground`` command."""
from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="playground", description="An educational neural-network playground.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the playground page")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    serve.add_argument("--show", action="store_true", help="open the page in a browser")
    serve.add_argument("--pyodide-dir", metavar="DIR",
                       help="the Pyodide files to serve (default: static/pyodide, see 'playground pyodide fetch')")
    serve.add_argument("--boot-timeout", type=float, default=60.0, metavar="SECONDS",
                       help="how long a page waits for its engine to start before it reports an error (default 60)")
    serve.add_argument("--trainer-url", default=os.environ.get("PLAYGROUND_TRAINER_URL"), metavar="URL",
                       help="train models too big for the browser on this training server ('playground trainer' "
                            "on another machine), e.g. http://gpu-box:8765 (default: $PLAYGROUND_TRAINER_URL)")
    serve.add_argument("--trainer-token", default=os.environ.get("PLAYGROUND_TRAINER_TOKEN"), metavar="TOKEN",
                       help="the training server's token (default: $PLAYGROUND_TRAINER_TOKEN)")
    serve.add_argument("--api-token", metavar="TOKEN",
                       help="expose this server's own training API (/api/...) to clients with this token")
    serve.add_argument("--no-server-training", dest="server_training", action="store_false",
                       help="train nothing on this machine: only in the browser, or on --trainer-url")
    serve.add_argument("--classroom-db", metavar="URL_OR_PATH", default=os.environ.get("PLAYGROUND_CLASSROOM_DB"),
                       help="where classroom sessions are kept: a SQLite file's path, or a database URL such as "
                            "postgresql+psycopg://user:password@host/db (default: $PLAYGROUND_CLASSROOM_DB, else "
                            "classroom.sqlite3 in ~/.local/share/playground)")
    serve.add_argument("--classroom-hours", type=float, default=12.0, metavar="HOURS",
                       help="how long a classroom session lasts before it expires (default 12)")
    serve.add_argument("--no-classroom", dest="classroom", action="store_false",
                       help="no classroom sessions (and no classroom database)")

    trainer = commands.add_parser("trainer", help="run only the training service (on a GPU machine), for "
                                                  "'playground serve --trainer-url' to send its jobs to")
    trainer.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0: every interface)")
    trainer.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    trainer.add_argument("--token", default=os.environ.get("PLAYGROUND_TRAINER_TOKEN"),
                         help="the token clients must send (default: $PLAYGROUND_TRAINER_TOKEN; required)")
    trainer.add_argument("--max-jobs", type=int, metavar="N", help="jobs trained at once (default: JobLimits', 2)")
    trainer.add_argument("--max-seconds", type=float, metavar="S",
                         help="training time of one job (default: JobLimits', 600)")
    trainer.add_argument("--device", choices=["cpu", "cuda"], help="where to train (default: cuda if there is one)")

    bench = commands.add_parser("bench", help="measure speed; prints figures and writes them as JSON")
    bench.add_argument("target", choices=["engine", "browser", "server", "classroom"], nargs="?", default="engine",
                       help="engine: the numpy engine in this Python; browser: the page in Chromium "
                            "against a plain-JavaScript baseline; server: the torch trainer with frames against "
                            "a bare torch loop (on the GPU when there is one); classroom: simulated students "
                            "sending summaries to a real server, and the instructor feed's latency")
    bench.add_argument("--out", "--json", dest="out", metavar="PATH",
                       help="where to write the JSON (default bench-results/<target>.json)")
    bench.add_argument("--seconds", type=float, help="time spent on each measurement (engine 2, browser 10)")
    bench.add_argument("--pyodide-dir", metavar="DIR", help="browser: the Pyodide files to serve")
    bench.add_argument("--chromium", default="chromium", help="browser: the Chromium executable")
    bench.add_argument("--rounds", type=int, default=3, help="browser: rounds of each (the median is reported)")
    bench.add_argument("--view-seconds", type=float, help="browser: seconds with each view open (0: skip the views)")
    bench.add_argument("--students", type=int, default=200, help="classroom: simulated students (default 200)")
    bench.add_argument("--rate", type=float, default=5.0, help="classroom: summaries per student per second (default 5)")

    pyodide = commands.add_parser("pyodide", help="the Pyodide files the browser engine runs on")
    pyodide_commands = pyodide.add_subparsers(dest="pyodide_command", required=True)
    fetch = pyodide_commands.add_parser("fetch", help="put the pinned Pyodide files into the folder the app serves, "
                                                      "checking every sha256")
    fetch.add_argument("--from", dest="source", metavar="SOURCE",
                       help="a local folder, file:// or http(s):// folder URL with the Pyodide 0.27.7 files "
                            "(default: $PLAYGROUND_PYODIDE_SOURCE, else the official CDN)")
    fetch.add_argument("--dest", metavar="DIR", help="where to put them (default: the app's static/pyodide)")

    data = commands.add_parser("data", help="the server-only datasets' files (28×28 digits, a large text corpus), "
                                            "in $PLAYGROUND_DATA_DIR or ~/.cache/playground/data")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_fetch = data_commands.add_parser("fetch", help="download MNIST once (sha256 checked) as the 28×28 digits")
    data_fetch.add_argument("dataset", choices=["digits28"])
    data_fetch.add_argument("--from", dest="source", metavar="SOURCE",
                            help="mnist.npz as a local path, file:// or http(s):// URL (default: the official copy)")
    data_add = data_commands.add_parser("add", help="import your own file: digits28 FILE.npz or corpus FILE.txt")
    data_add.add_argument("dataset", choices=["digits28", "corpus"])
    data_add.add_argument("file", help="an .npz with images and labels (or MNIST's keys), or a UTF-8 text file")
    data_commands.add_parser("status", help="which data files are there, their sizes and example counts")

    args = parser.parse_args(argv)
    if args.command in ("serve", "trainer") or getattr(args, "target", None) == "server":
        # numpy's BLAS threads would only fight the training threads over the
        # cores (the frames' matrices are small). Set before numpy is imported.
        for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")
    if args.command == "serve":
        from .remote import RemoteTrainerError
        from .web import open_classroom
        from .web import serve as run_server
        classroom = None
        if args.classroom:
            try:
                classroom = open_classroom(args.classroom_db, hours=args.classroom_hours)
            except Exception as error:  # a bad URL, an unreachable database, a missing driver, bad hours
                print(f"playground serve: the classroom database cannot be opened ({error}); fix --classroom-db, "
                      f"or start with --no-classroom", file=sys.stderr)
                return 1
        try:
            run_server(args.host, args.port, show=args.show, pyodide_dir=args.pyodide_dir,
                       boot_timeout=args.boot_timeout, trainer_url=args.trainer_url,
                       trainer_token=args.trainer_token, api_token=args.api_token,
                       server_training=args.server_training, classroom=classroom)
        except RemoteTrainerError as error:
            if classroom is not None:
                classroom.close()
            print(f"playground serve: {error}", file=sys.stderr)
            return 1
    elif args.command == "trainer":
        if not args.token:
            parser.error("playground trainer needs a token: --token TOKEN or $PLAYGROUND_TRAINER_TOKEN")
        from .jobs import JobLimits
        from .trainer_api import run_trainer
        given = {"max_jobs": args.max_jobs, "max_seconds": args.max_seconds}
        try:
            run_trainer(args.host, args.port, args.token,
                        JobLimits(**{name: value for name, value in given.items() if value is not None}),
                        device=args.device)
        except ValueError as error:
            print(f"playground trainer: {error}", file=sys.stderr)
            return 1
    elif args.command == "bench" and args.target == "engine":
        from playground.bench import run_engine_benchmark
        run_engine_benchmark(args.out or "bench-results/engine.json", seconds=args.seconds or 2.0)
    elif args.command == "bench" and args.target == "classroom":
        from .classroom.bench import run_classroom_benchmark
        run_classroom_benchmark(args.out or "bench-results/classroom.json", students=args.students,
                                seconds=args.seconds or 10.0, rate=args.rate)
    elif args.command == "bench" and args.target == "server":
        from .server_bench import run_server_benchmark
        run_server_benchmark(args.out or "bench-results/server.json", seconds=args.seconds or 5.0)
    elif args.command == "bench":
        import shutil

        from .browser_bench import run_browser_benchmark
        chromium = shutil.which(args.chromium) or args.chromium
        run_browser_benchmark(args.out or "bench-results/browser.json", pyodide_dir=args.pyodide_dir,
                              chromium=chromium, seconds=args.seconds or 8.0, rounds=args.rounds,
                              view_seconds=args.view_seconds)
    elif args.command == "pyodide":
        from pathlib import Path

        from .pyodide_files import PYODIDE_VERSION, PyodideFetchError, default_destination, fetch_pyodide
        destination = Path(args.dest).expanduser() if args.dest else default_destination()
        try:
            files = fetch_pyodide(destination, args.source)
        except PyodideFetchError as error:
            print(f"playground pyodide fetch: {error}", file=sys.stderr)
            return 1
        print(f"Pyodide {PYODIDE_VERSION} is ready in {destination} ({len(files)} files checked)")
    elif args.command == "data":
        from .data_files import DataFileError, add_corpus, add_digits28, data_status, fetch_digits28, format_status
        try:
            if args.data_command == "fetch":
                fetch_digits28(args.source)
            elif args.data_command == "add":
                (add_digits28 if args.dataset == "digits28" else add_corpus)(args.file)
            else:
                print(format_status(data_status()))
        except DataFileError as error:
            print(f"playground data: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
