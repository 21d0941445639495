import pytest
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg import SecAggError
from zkpot.domain.secagg.crypto import generate_key, open_share, pair_seed, public_hex, seal_share, share_aad
from zkpot.domain.secagg.prg import SeededRandomness

RND = SeededRandomness(b"crypto")
A, B, C = "aa" * 32, "bb" * 32, "cc" * 32
SK_A, SK_B, SK_C = generate_key(RND), generate_key(RND), generate_key(RND)


def test_pair_seed_is_the_same_on_both_sides_and_bound_to_round_and_pair() -> None:
    ab = pair_seed(SK_A, public_hex(SK_B), 1, A, B)
    assert ab == pair_seed(SK_B, public_hex(SK_A), 1, B, A)
    assert ab != pair_seed(SK_A, public_hex(SK_B), 2, A, B)
    assert ab != pair_seed(SK_A, public_hex(SK_B), 1, A, C)
    assert len(ab) == 32


def test_a_sealed_share_opens_only_for_its_recipient_round_and_sender() -> None:
    aad = share_aad(1, A, B)
    sealed = seal_share(SK_A, public_hex(SK_B), b"share", aad, RND)
    assert open_share(SK_B, public_hex(SK_A), sealed, aad) == b"share"
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for sk, pk, blob, context in ((SK_C, public_hex(SK_A), sealed, aad),  # wrong recipient key
                                  (SK_B, public_hex(SK_A), tampered, aad),
                                  (SK_B, public_hex(SK_A), sealed, share_aad(2, A, B)),
                                  (SK_B, public_hex(SK_C), sealed, aad),
                                  (SK_B, public_hex(SK_A), sealed[:10], aad)):
        with pytest.raises(SecAggError) as err:
            open_share(sk, pk, blob, context)
        assert err.value.reason is Reason.SECAGG_BAD_SHARE


def test_sealing_twice_uses_fresh_nonces() -> None:
    aad = share_aad(1, A, B)
    assert seal_share(SK_A, public_hex(SK_B), b"x", aad, RND) != seal_share(SK_A, public_hex(SK_B), b"x", aad, RND)


@pytest.mark.parametrize("peer", ["00" * 32, "zz" * 32, "ab"])
def test_a_bad_or_low_order_public_key_is_a_bad_key(peer: str) -> None:
    with pytest.raises(SecAggError) as err:
        pair_seed(SK_A, peer, 1, A, B)
    assert err.value.reason is Reason.SECAGG_BAD_KEY
