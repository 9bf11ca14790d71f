"""The Docker backend: everything that speaks Docker's API lives in this package."""
