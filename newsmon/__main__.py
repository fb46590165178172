"""`python -m newsmon`: the newsmon command line."""

from newsmon.cli.main import main

main()
