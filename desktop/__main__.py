"""`python -m desktop` opens the console, after the same checks as `outpost gui`."""

import sys

from desktop.launch import launch

if __name__ == "__main__":
    sys.exit(launch(sys.argv[1] if len(sys.argv) > 1 else None))
