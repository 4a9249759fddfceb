"""`python -m backend` is the `outpost` command."""

from backend.cli import main

if __name__ == "__main__":
    main()
