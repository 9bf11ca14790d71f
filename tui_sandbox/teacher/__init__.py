"""The teacher's view of a class: `tui-sandbox class`. A client of `tui-sandbox serve`
(GET /class, DELETE /runs/{id}) that needs no Docker: client.py speaks HTTP and puts a
snapshot in words (no Textual, for `--once`), app.py is the live Textual screen."""
