from tests.postgres_server import postgres_fixture

pg = postgres_fixture("pg")


def test_factory(pg):
    assert pg.execute("select 1").strip() == "1"
