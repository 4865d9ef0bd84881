import sys

from resnet_core import threads
from resnet_core.cli import main

threads.configure()  # CPU thread settings for the whole process (resnet_core.threads; RESNET_LAB_THREADS)
sys.exit(main())
