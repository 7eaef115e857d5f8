import sys

from codex_bot.cli import main

sys.exit(main())
