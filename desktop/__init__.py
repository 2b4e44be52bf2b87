"""社区一站通 (Station Desk): the application."""

APP_NAME = "社区一站通"
APP_NAME_EN = "Station Desk"
__version__ = "0.1.0"
