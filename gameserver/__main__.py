from gameserver.cli import main

raise SystemExit(main())
