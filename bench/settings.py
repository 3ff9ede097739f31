"""The production settings plus the bare baseline view (bench/bare.py) for bench/create.py."""
from rivergen.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare"
