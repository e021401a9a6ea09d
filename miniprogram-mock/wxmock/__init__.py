"""Stand-in WeChat API server: WeChat's routes and response shapes, plus helper routes that play the phone."""
from wxmock.server import MockState, create_blueprint, create_standalone_app

__all__ = ["MockState", "create_blueprint", "create_standalone_app"]
