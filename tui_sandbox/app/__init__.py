"""The learner's app: the main screen, its screens and widgets, and the run controller
that runs its programs. Everything here is Textual; the command line imports it only
when the app itself is opened (`tui-sandbox run` never does)."""

from .app import SandboxApp

__all__ = ["SandboxApp"]
