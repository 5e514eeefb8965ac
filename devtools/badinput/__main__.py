from devtools.badinput.run import main

raise SystemExit(main())
