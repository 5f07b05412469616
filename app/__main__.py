"""`python -m app` opens the GUI; `python -m app render|probe|demo …` runs the CLI."""

from app.launch import main

raise SystemExit(main())
