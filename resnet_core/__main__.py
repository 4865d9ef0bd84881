import sys

from resnet_core.cli import main

sys.exit(main())
