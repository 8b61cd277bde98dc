from cli.course import main

raise SystemExit(main())
