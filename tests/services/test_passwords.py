"""Staff passwords: the service hashes them with strong argon2id; the tests, cheaply."""

import argon2
from argon2.profiles import RFC_9106_LOW_MEMORY

from pb_vote.services import accounts
from tests.conftest import PRODUCTION_DUMMY_HASH, PRODUCTION_PASSWORD_HASHER

# argon2-cffi's recommended default (RFC 9106, low memory): 3 passes over 64 MiB.
STRONG = RFC_9106_LOW_MEMORY


def test_the_service_hashes_with_argon2id_at_the_recommended_cost_or_more():
    hasher = PRODUCTION_PASSWORD_HASHER
    made = argon2.extract_parameters(PRODUCTION_DUMMY_HASH)  # a hash the service made
    assert made.type is hasher.type is argon2.Type.ID
    assert (made.time_cost, made.memory_cost, made.parallelism) == (
        hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    assert made.time_cost >= STRONG.time_cost
    assert made.memory_cost >= STRONG.memory_cost
    assert made.salt_len >= STRONG.salt_len and made.hash_len >= STRONG.hash_len


def test_tests_hash_cheaply_and_the_service_would_rehash_such_a_hash():
    assert accounts.PASSWORD_HASHER is not PRODUCTION_PASSWORD_HASHER
    cheap = accounts.PASSWORD_HASHER.hash("correct horse battery staple")
    assert argon2.extract_parameters(cheap).memory_cost < STRONG.memory_cost
    # authenticate_staff rehashes whatever check_needs_rehash flags, at the next sign-in.
    assert PRODUCTION_PASSWORD_HASHER.check_needs_rehash(cheap)
    assert not PRODUCTION_PASSWORD_HASHER.check_needs_rehash(PRODUCTION_DUMMY_HASH)
