"""PostgreSQL away and the spool's disk full at once (a real PostgreSQL stopped, a real
tmpfs filled): the runs still answer, the rows the spool cannot take are held and said
once in the front's log, with no traceback, and every one reaches the database once the
disk has room and PostgreSQL is back."""

from __future__ import annotations

import psycopg

from .conftest import run, wait_for


def written(url: str) -> set[str]:
    with psycopg.connect(url) as db:
        return {row[0] for row in db.execute("SELECT id FROM runs")}


def test_postgresql_away_and_the_spool_disk_full(cluster, postgres, tiny_disk):
    url = postgres.new_database()
    cluster.env["XDG_DATA_HOME"] = str(tiny_disk.path)          # where the front keeps its spool
    cluster.worker("w1", 2)
    front, client = cluster.front(url)
    first = run(client, "print('first')").json()
    wait_for(lambda: first["id"] in written(url), 30, "the first row was not written")
    postgres.stop()
    try:
        tiny_disk.fill()
        # Each row bigger than a page: none fits in what the spool's last page has left.
        held = [run(client, f"# {'x' * 8192}\nprint({i})").json() for i in range(3)]
        assert [answer["output"] for answer in held] == ["0\n", "1\n", "2\n"], held
        wait_for(lambda: "cannot be written" in front.output(), 30, "the front did not say the rows are held")
        tiny_disk.free()
    finally:
        postgres.start()

    ids = {first["id"], *(answer["id"] for answer in held)}
    wait_for(lambda: ids <= written(url), 40, "the held rows did not reach PostgreSQL")
    log = front.output()
    assert log.count("cannot be written") == 1 and "No space left" in log, log
    assert "Traceback" not in log, log
