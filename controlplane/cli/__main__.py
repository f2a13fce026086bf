"""`python -m controlplane.cli`: the `weft` command."""

from controlplane.cli.main import main

main()
