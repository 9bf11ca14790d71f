"""The app's widgets, one module each; none of them talks to the engine directly."""
