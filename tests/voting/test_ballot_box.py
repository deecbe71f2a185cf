"""Sealed ballots: what the database holds of a choice is unreadable without the key, the
same length for every ballot of a round, and bound to its row."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb_vote.services import ballot_box
from pb_vote.services.ballot_box import BallotKeyError, Keyring

KEY = ballot_box.new_key()
OTHER_KEY = ballot_box.new_key()


def keyring(*keys):
    return Keyring.from_config(list(keys) or [KEY])


def test_a_sealed_ballot_opens_to_its_choices_and_shows_none_of_them():
    sealed = keyring().seal({"12": 1, "40": 1}, round_id=3, voter_key="k", size=64)
    assert b"12" not in sealed[21:] and b"40" not in sealed[21:]
    assert keyring().open(sealed, round_id=3, voter_key="k") == {"12": 1, "40": 1}


def test_two_seals_of_one_ballot_differ():
    ring = keyring()
    assert ring.seal({"1": 1}, round_id=1, voter_key="k", size=32) != ring.seal(
        {"1": 1}, round_id=1, voter_key="k", size=32)


@given(st.dictionaries(st.integers(1, 300), st.integers(1, 10), min_size=1, max_size=30),
       st.dictionaries(st.integers(1, 300), st.integers(1, 10), min_size=1, max_size=30))
def test_every_ballot_of_a_round_has_the_same_length(first, second):
    ids = set(first) | set(second)
    size = ballot_box.sealed_size(ids, 10)
    ring = keyring()
    lengths = {len(ring.seal({str(k): v for k, v in sorted(ballot.items())}, round_id=1,
                             voter_key="k", size=size)) for ballot in (first, second)}
    assert len(lengths) == 1


@pytest.mark.parametrize("where", [{"round_id": 4, "voter_key": "k"},
                                   {"round_id": 3, "voter_key": "someone else"}])
def test_a_ballot_moved_to_another_row_does_not_open(where):
    sealed = keyring().seal({"1": 1}, round_id=3, voter_key="k", size=32)
    with pytest.raises(BallotKeyError, match="altered or moved"):
        keyring().open(sealed, **where)


def test_an_altered_ballot_does_not_open():
    sealed = bytearray(keyring().seal({"1": 1}, round_id=3, voter_key="k", size=32))
    sealed[-1] ^= 1
    with pytest.raises(BallotKeyError, match="altered"):
        keyring().open(bytes(sealed), round_id=3, voter_key="k")


def test_without_its_key_a_ballot_does_not_open_and_rotation_keeps_old_ones():
    old = keyring(KEY).seal({"7": 2}, round_id=1, voter_key="k", size=32)
    with pytest.raises(BallotKeyError, match="not configured"):
        keyring(OTHER_KEY).open(old, round_id=1, voter_key="k")
    rotated = keyring(OTHER_KEY, KEY)
    assert rotated.open(old, round_id=1, voter_key="k") == {"7": 2}
    new = rotated.seal({"7": 2}, round_id=1, voter_key="k", size=32)
    assert rotated.sealed_with(new) == ballot_box.key_id(
        ballot_box.parse_keys([OTHER_KEY])[0]) != rotated.sealed_with(old)


@pytest.mark.parametrize("value, problem", [
    ("", "no ballot key"), ("not*base64!", "base64"), ("c2hvcnQ", "32 bytes"),
])
def test_bad_key_configuration_is_named(value, problem):
    with pytest.raises(ValueError, match=problem):
        ballot_box.parse_keys(value)


def test_keys_may_be_written_as_a_list_or_a_string():
    assert ballot_box.parse_keys(f"{KEY}, {OTHER_KEY}") == ballot_box.parse_keys(
        [KEY, OTHER_KEY])
