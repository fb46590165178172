"""`python -m newsmon.cli`: the newsmon command line."""

from newsmon.cli.main import main

main()
