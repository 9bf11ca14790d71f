"""Modal screens: the experiments picker, save-as, and a yes/no confirmation."""
