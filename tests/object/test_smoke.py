from swiftclient import client as swift

from tests.object.conftest import Customer


def test_round_trip(alice: Customer, alice_conn: swift.Connection) -> None:
    alice_conn.put_container("c")
    etag = alice_conn.put_object("c", "a/b.txt", b"hello")
    headers, body = alice_conn.get_object("c", "a/b.txt")
    assert body == b"hello"
    assert headers["etag"] == etag
    _, listing = alice_conn.get_container("c")
    assert [o["name"] for o in listing] == ["a/b.txt"]
    acct, _ = alice_conn.get_account()
    assert acct["x-account-object-count"] == "1"
