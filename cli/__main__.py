import sys

from cli.course import main

sys.exit(main())
