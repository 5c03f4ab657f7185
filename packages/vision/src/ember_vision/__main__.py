"""``python -m ember_vision ...`` runs the ``ember-vision`` command."""
import sys

from .cli import main

sys.exit(main())
