# Stand-in for keylime.keylime_logging (not Keylime code): plain logging.
import logging


def init_logging(name):
    return logging.getLogger(name)
