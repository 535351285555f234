"""`promosync samples [DIR]`: copy the sample input files the README's tour imports into DIR.

The files ship with promosync (a source checkout's fixtures/samples, or inside the installed
package), so a tour can be followed in an empty folder. Files already in DIR are not replaced.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from connector._resources import data_dir
from connector.errors import ConfigError

SAMPLES = ("customers.csv", "customer-codes.csv", "codes.txt", "gift-codes.txt",
           "netsuite-codes.csv")


@click.command("samples")
@click.argument("folder", default=".", type=click.Path(file_okay=False))
def samples(folder: str) -> None:
    """Copy the sample files (customers, customer codes, codes, gift codes) into FOLDER."""
    target = Path(folder)
    if not target.is_dir():
        raise ConfigError(f"no folder {folder}")
    source = data_dir("fixtures") / "samples"
    for name in SAMPLES:
        dest = target / name
        if dest.exists():
            click.echo(f"{dest}: already there, left as it is")
            continue
        try:
            shutil.copyfile(source / name, dest)
        except OSError as exc:
            raise ConfigError(f"cannot write {dest}: {exc.strerror}") from None
        click.echo(f"{dest}")


COMMANDS = [samples]
