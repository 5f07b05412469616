"""`python -m app` opens the GUI; `python -m app render|probe|demo …` runs the CLI."""

from app.cli import main

raise SystemExit(main())
