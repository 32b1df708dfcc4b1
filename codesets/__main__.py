"""``python -m codesets``: the same as the ``codesets`` command."""

from codesets.cli.app import main

if __name__ == "__main__":
    main()
