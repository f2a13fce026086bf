"""`weft images build` and `weft world`: a failure is a one-line reason and exit 1."""

from pathlib import Path

from typer.testing import CliRunner

from controlplane.build.errors import BuildError
from controlplane.build.images import ImageBuildError
from controlplane.cli.main import app
from controlplane.launch.local import LaunchError


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_an_unknown_image_is_one_line_and_exit_1() -> None:
    code, out, err = run("images", "build", "--only", "nosuch")
    assert code == 1, err
    assert err.splitlines() == [
        "error: unknown image(s) ['nosuch']; known: ['agent', 'controlplane', 'searchapi', "
        "'worlddb']"
    ]
    assert "Traceback" not in out + err


def test_an_engine_that_does_not_answer_is_one_line_and_exit_1(tmp_path: Path) -> None:
    socket = f"unix://{tmp_path}/wefttest-no-engine.sock"
    for args in (("images", "build", "--only", "worlddb"), ("world", "down")):
        code, out, err = run(*args, env={"DOCKER_HOST": socket})
        assert code == 1, (args, err)
        assert len(err.splitlines()) == 1 and err.startswith("error: Docker engine: "), err
        assert "Traceback" not in out + err


def test_build_errors_keep_one_line_of_reason_and_the_log_apart() -> None:
    err = ImageBuildError("weft/x:1: The command returned 1\nmore detail", "step 1\nstep 2\n")
    assert err.reason == "weft/x:1: The command returned 1"
    assert err.log == "more detail\nstep 1\nstep 2"
    assert str(err) == "weft/x:1: The command returned 1\nmore detail\nstep 1\nstep 2"
    assert isinstance(LaunchError("w"), BuildError) and LaunchError("w").log == ""
