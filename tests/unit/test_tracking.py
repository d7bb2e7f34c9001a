from hotline.domain.tracking import new_salt, token_matches, tracking_token


def test_token_is_stable_for_same_inputs_and_differs_otherwise() -> None:
    salt = new_salt()
    token = tracking_token("k", "WM20261121-0001", salt)
    assert token == tracking_token("k", "WM20261121-0001", salt)
    assert token != tracking_token("k", "WM20261121-0002", salt)
    assert token != tracking_token("other-key", "WM20261121-0001", salt)
    assert token != tracking_token("k", "WM20261121-0001", new_salt())
    assert len(token) == 24


def test_token_matches() -> None:
    salt = new_salt()
    token = tracking_token("k", "WM1", salt)
    assert token_matches("k", "WM1", salt, token)
    assert not token_matches("k", "WM1", salt, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not token_matches("k", "WM1", salt, "")
    assert not token_matches("k", "WM1", salt, None)
    assert not token_matches("k", "WM1", salt, "x" * 1000)
