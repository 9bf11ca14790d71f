# Write files in a few places. /tmp is a small in-memory filesystem and always works;
# the rest of the filesystem is read-only unless you turn read-only off (F3).

for path in ("/tmp/note.txt", "/home/sandbox/note.txt", "/var/tmp/note.txt", "/note.txt",
             "/sandbox/note.txt"):
    try:
        with open(path, "w") as note:
            note.write("written from the sandbox\n")
        print(f"wrote    {path}")
    except OSError as exc:
        print(f"refused  {path}: {exc.strerror}")
