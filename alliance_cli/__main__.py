"""`python -m alliance_cli` runs the same program as the `alliance` command."""

from alliance_cli.cli.app import main

if __name__ == "__main__":
    main()
