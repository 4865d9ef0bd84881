import sys

from resnet_core.cli import main
from resnet_core.training import threads

threads.configure()  # CPU thread settings for the whole process (resnet_core.training.threads; RESNET_LAB_THREADS)
sys.exit(main())
