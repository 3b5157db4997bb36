from pushflow_cli.main import main

raise SystemExit(main())
