"""For developers making migrations: tortoise -c server.tortoise_cli.TORTOISE_ORM makemigrations."""
from server.config import load_settings
from server.db import tortoise_config

TORTOISE_ORM = tortoise_config(load_settings())
