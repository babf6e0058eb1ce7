from photondrift.settings.base import *  # noqa: F403
