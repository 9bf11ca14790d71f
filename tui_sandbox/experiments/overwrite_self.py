# Overwrite its own script: the source is owned by root and read-only (0444), so this
# fails whatever the read-only toggle says. The program cannot change what it is.
print("my source is", __file__)
with open(__file__, "w") as me:
    me.write("print('I rewrote myself')\n")
print("rewrote myself (this should not happen)")
