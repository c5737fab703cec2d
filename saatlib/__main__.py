"""Entry point for ``python -m saatlib``."""
from saatlib.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
