"""Operations: python -m server [serve|worker|migrate|seed-demo|staff add|registry import|stats …|posters|archive …|annual-reports …|rotate-keys]."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date

from server.config import ConfigError, Settings, load_settings


def _serve(settings: Settings, args) -> None:
    from functools import partial

    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from server.app import create_app
    from server.services.review.worktime import require_year

    from server.clock import today

    require_year(settings, today().year)
    server = settings.server.model_copy(update={"host": args.host or settings.server.host,
                                                "port": args.port or settings.server.port})
    settings = settings.model_copy(update={"server": server})
    loader = AppLoader(factory=partial(create_app, settings, json_logs=True))
    app = loader.load()
    single = settings.server.workers == 1
    app.prepare(host=server.host, port=server.port, workers=server.workers, access_log=server.access_log,
                debug=server.debug, single_process=single, motd=False)
    print(f"serving on {settings.base_url}  (API docs at {settings.base_url}/docs)", flush=True)
    if single:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


async def _with_db(settings: Settings, work):
    from server import storage
    from server.db import close_database, open_database

    await open_database(settings)
    try:
        return await work()
    finally:
        await storage.close(settings)
        await close_database()


async def _migrate(settings: Settings) -> None:
    from server.db import migrate
    from server.services.authorities import load_divisions

    applied = await migrate(settings)
    print("migrations applied: " + (", ".join(applied) if applied else "none (up to date)"))
    created = await _with_db(settings, lambda: load_divisions(settings.home_province))
    print(f"registration authorities of province {settings.home_province}: {created} added")


async def _seed_demo(settings: Settings) -> None:
    from server.services.demo import seed_demo

    for line in await _with_db(settings, lambda: seed_demo(settings)):
        print(line)


async def _staff_add(settings: Settings, args) -> None:
    from server.services.accounts.staff import add_staff

    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else __import__("getpass").getpass("password: ")
    staff = await _with_db(settings, lambda: add_staff(args.username, password, args.role, args.authority, args.name or "",
                                                                    args.point or "", args.landline or ""))
    print(f"staff {staff.username} ({staff.role}) added to authority {args.authority}")


async def _registry_import(settings: Settings, args) -> int:
    import time

    from server.services.applications.registry import import_file

    started = time.monotonic()
    report = await _with_db(settings, lambda: import_file(args.file))
    for number, message in report.errors:
        print(f"{args.file}:{number}: {message}", file=sys.stderr)
    print(f"registry import: {report.read} lines read, {report.imported} imported, {len(report.errors)} rejected "
          f"in {time.monotonic() - started:.1f} s")
    return 1 if report.errors else 0


async def _stats_import_offline(settings: Settings, args) -> int:
    from server.services.statistics.offline import import_offline

    report = await _with_db(settings, lambda: import_offline(args.file))
    for number, message in report.errors:
        print(f"{args.file}:{number}: {message}", file=sys.stderr)
    if report.errors:
        print(f"offline filings: {report.read} lines read, nothing imported ({len(report.errors)} rejected)")
        return 1
    print(f"offline filings: {report.read} lines read, {report.imported} imported")
    return 0


async def _stats_weekly_report(settings: Settings, args) -> None:
    from server.services.statistics.weekly import generate_due

    made = await _with_db(settings, lambda: generate_due(settings, force_week=args.week))
    print(f"weekly reports generated: {len(made)}")


async def _stats_rebuild_rollups(settings: Settings, args) -> int:
    import time

    from server.services.statistics.rollups import rebuild

    started = time.monotonic()
    days = await _with_db(settings, lambda: rebuild(
        settings, args.first, args.last,
        progress=lambda day: print(f"  rebuilt up to {day.isoformat()} in {time.monotonic() - started:.1f} s",
                                   flush=True)))
    print(f"statistics rollups rebuilt: {days} days ({args.first.isoformat()} to {args.last.isoformat()}) "
          f"in {time.monotonic() - started:.1f} s")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: a date as YYYY-MM-DD") from None


async def _posters(settings: Settings) -> None:
    from tqdm import tqdm

    from concurrent.futures import ProcessPoolExecutor

    from server.services.guides.points import points_for_posters, poster_text, store_poster
    from server.services.guides.posters import point_files

    async def work():
        # Sorted by authority, so each render process draws an authority's shared background once and reuses it.
        todo = sorted(await points_for_posters(), key=lambda point: (point.authority_id, point.id))
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool, \
                tqdm(total=len(todo), desc="posters", unit="poster") as bar:
            slots = asyncio.Semaphore(2 * (os.cpu_count() or 1))  # bounds the rendered files waiting in memory

            async def one(point):
                async with slots:
                    files = await loop.run_in_executor(pool, point_files, point.code, poster_text(settings, point),
                                                       settings.guides.font_path)
                    await store_poster(settings, point, files)
                bar.update()

            await asyncio.gather(*(one(point) for point in todo))
        return len(todo)

    made = await _with_db(settings, work)
    print(f"posters written for {made} service points")


async def _archive(settings: Settings, args) -> int:
    from server.cache import make_cache
    from server.services.archive import bundles, ledger

    async def work():
        cache = make_cache(settings.cache.url)
        try:
            if args.archive_command == "verify":
                result = await ledger.verify(settings)
                for problem in result["problems"]:
                    where = problem.get("path") or f"ledger seq {problem.get('seq')}"
                    print(f"{problem.get('bundle_id') or '-'} {problem.get('credit_code') or '-'} {where}: "
                          f"{problem['message']}", file=sys.stderr)
                print(f"archive ledger: {result['entries']} entries, {result['bundles_checked']} bundles checked, "
                      + ("all hashes match" if result["ok"] else f"{len(result['problems'])} problems"))
                return 0 if result["ok"] else 1
            if args.archive_command == "pending":
                print(f"archived {await bundles.archive_pending(settings, cache)} finished filings")
                return 0
            bundles.require_directory(args.dir)
            report = await bundles.import_scans(settings, cache, args.dir)
            for where, message in report.errors:
                print(f"{where}: {message}", file=sys.stderr)
            print(f"scanned archives: {len(report.imported)} imported, {len(report.skipped)} already imported, "
                  f"{len(report.errors)} rejected")
            return 1 if report.errors else 0
        finally:
            await cache.close()

    return await _with_db(settings, work)


async def _annual_reports(settings: Settings, args) -> int:
    from server.cache import make_cache
    from server.services.annual_reports import reminders, reports

    async def work():
        if args.annual_command == "import":
            report = await reports.import_file(args.file)
            for number, message in report.errors:
                print(f"{args.file}:{number}: {message}", file=sys.stderr)
            print(f"annual reports: {report.read} lines read, {report.imported} imported, "
                  f"{len(report.errors)} rejected")
            return 1 if report.errors else 0
        cache = make_cache(settings.cache.url)
        try:
            day = None
            if args.date:
                from datetime import date

                day = date.fromisoformat(args.date)
            result = await reminders.schedule(settings, cache, day)
            print(f"annual-report reminders for {result['date']}: {result['scheduled']} scheduled"
                  + (f" ({result['reason']})" if result.get("reason") else ""))
            return 0
        finally:
            await cache.close()

    return await _with_db(settings, work)


async def _rotate_keys(settings: Settings, args) -> None:
    import time

    from server.crypto import keyring
    from server.services.data_keys import rotate_keys

    started = time.monotonic()
    done = await _with_db(settings, lambda: rotate_keys(args.batch_size or settings.crypto.rotate_batch_size,
                                                         lambda table, rows: print(f"  {table}: {rows}", flush=True)))
    total = sum(done.values())
    print(f"rotate-keys: {total} rows re-encrypted under key {keyring().current_key_id} "
          f"in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="一窗通 mini-program backend")
    parser.add_argument("--config", help="config file (default config.yaml or $YCT_CONFIG)")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the HTTP server (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    worker = commands.add_parser("worker", help="run the outbox sender (SMS, WeChat, notary) as its own process")
    worker.add_argument("--concurrency", type=int, help="messages claimed and sent at once (outbox.concurrency)")
    worker.add_argument("--metrics-port", type=int, help="serve this worker's Prometheus metrics on this port")
    commands.add_parser("migrate", help="apply database migrations and load the registration authorities")
    commands.add_parser("seed-demo", help="demo staff, guide content and help points")
    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="staff_command", required=True)
    add = staff.add_parser("add", help="add a staff account (password from standard input)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["reviewer", "helper", "admin"])
    add.add_argument("--authority", required=True, help="6-digit authority code")
    add.add_argument("--name", help="display name")
    add.add_argument("--point", help="a helper's service point code (the directory publishes name and landline)")
    add.add_argument("--landline", help="a helper's landline, published in the directory")
    registry = commands.add_parser("registry", help="the registry of existing entities").add_subparsers(
        dest="registry_command", required=True)
    registry_import = registry.add_parser("import", help="import entities from a JSON Lines file (idempotent)")
    registry_import.add_argument("file", help='lines of {"name", "credit_code", "authority_code", "entity_type", "status"}')
    stats = commands.add_parser("stats", help="statistics").add_subparsers(dest="stats_command", required=True)
    offline = stats.add_parser("import-offline", help="offline filings per authority and month (CSV) for 网办率")
    offline.add_argument("file", help="CSV with the header authority_code,month,filings (month as YYYY-MM)")
    weekly = stats.add_parser("weekly-report", help="generate the weekly reports that are due now")
    weekly.add_argument("--week", help="YYYY-MM-DD: generate the reports of the week ending the day before this date")
    rebuild = stats.add_parser("rebuild-rollups", help="recompute the statistics rollups of a range of Beijing-time "
                                                       "days from the timeline (idempotent, one transaction a day)")
    rebuild.add_argument("--from", dest="first", type=_day, required=True, help="first day, YYYY-MM-DD")
    rebuild.add_argument("--to", dest="last", type=_day, required=True, help="last day, YYYY-MM-DD (inclusive)")
    commands.add_parser("posters", help="QR codes and A4 posters (PNG, PDF) of every active service point")
    archive = commands.add_parser("archive", help="the electronic archive (电子档案)").add_subparsers(
        dest="archive_command", required=True)
    archive.add_parser("verify", help="recompute the archive ledger and every bundle's file hashes (exit 1 on a problem)")
    archive.add_parser("pending", help="archive every finished filing that has no bundle yet")
    scans = archive.add_parser("import-scans", help="add scanned paper archives: DIR/<统一社会信用代码>/<files>")
    scans.add_argument("dir")
    annual = commands.add_parser("annual-reports", help="annual reports (年报) and their reminders").add_subparsers(
        dest="annual_command", required=True)
    annual_import = annual.add_parser("import", help="import filed reports: CSV with credit_code,year[,reported_on]")
    annual_import.add_argument("file")
    remind = annual.add_parser("remind", help="schedule today's reminders (or --date YYYY-MM-DD's), once per entity")
    remind.add_argument("--date")
    rotate = commands.add_parser("rotate-keys", help="re-encrypt personal data under crypto.current_key_id "
                                                     "(resumable: only rows under another key are touched)")
    rotate.add_argument("--batch-size", type=int, help="rows per transaction (crypto.rotate_batch_size)")
    args = parser.parse_args(argv)

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from server.errors import DomainError

    try:
        if args.command in (None, "serve"):
            if args.command is None:
                args.host = args.port = None
            _serve(settings, args)
        elif args.command == "worker":
            from server import logs
            from server.worker import run_worker

            logs.configure()
            if args.concurrency:
                outbox = settings.outbox.model_copy(update={"concurrency": args.concurrency})
                settings = settings.model_copy(update={"outbox": outbox})
            if args.metrics_port:
                from prometheus_client import start_http_server

                start_http_server(args.metrics_port, addr=settings.server.host)
            asyncio.run(run_worker(settings))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "seed-demo":
            asyncio.run(_seed_demo(settings))
        elif args.command == "staff":
            asyncio.run(_staff_add(settings, args))
        elif args.command == "registry":
            if not os.path.isfile(args.file):
                print(f"error: {args.file}: file not found", file=sys.stderr)
                return 2
            return asyncio.run(_registry_import(settings, args))
        elif args.command == "stats":
            if args.stats_command == "weekly-report":
                asyncio.run(_stats_weekly_report(settings, args))
                return 0
            if args.stats_command == "rebuild-rollups":
                if args.last < args.first:
                    print("error: --to is before --from", file=sys.stderr)
                    return 2
                return asyncio.run(_stats_rebuild_rollups(settings, args))
            if not os.path.isfile(args.file):
                print(f"error: {args.file}: file not found", file=sys.stderr)
                return 2
            return asyncio.run(_stats_import_offline(settings, args))
        elif args.command == "posters":
            asyncio.run(_posters(settings))
        elif args.command == "archive":
            return asyncio.run(_archive(settings, args))
        elif args.command == "rotate-keys":
            asyncio.run(_rotate_keys(settings, args))
        elif args.command == "annual-reports":
            if args.annual_command == "import" and not os.path.isfile(args.file):
                print(f"error: {args.file}: file not found", file=sys.stderr)
                return 2
            return asyncio.run(_annual_reports(settings, args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.field + ': ' if exc.field else ''}{exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
