"""How large a network and its messages may be, so that every message the network builds fits one NATS payload.

The biggest message is ``Finalized`` (the block, the attestations of its txs and the votes). Its largest possible
JSON encoding follows from the bounds below; ``tests/unit/domain/test_limits.py`` builds it and checks the
arithmetic. Sizes are bytes of compact JSON; a str takes its length plus 2 (no escapes: see ``schema``), an int at
most 10 digits for a round and 19 for a timestamp:

===================  =======  ==============================================================================
part                   bytes  made of
===================  =======  ==============================================================================
Transaction            1 395  5 hashes or keys (64 chars), a signature (128), a commitment (512), 2 CIDs (128),
                              6 ints, 14 keys
Attestation              417  tx id, validator key, signature, reason (64), round, flag
Vote                     424  the same with block hash and height
RejectedTx               238  tx id, client key, reason
BlockHeader            1 860  8 hashes, 2 CIDs, a commitment, an aggregation name (128), 12 ints
Block                420 701  header + signature + proposer + view + 256 txs (357 376) + 256 rejected (61 184)
attested sets        454 656  256 sets (tx id, 104 bytes empty) holding 1024 attestations in all (428 032)
votes                 13 600  32 votes
parent certificate    13 676  the parent's hash, height and 32 votes (in the proposal)
Finalized            902 754  1 048 576 (1 MiB) - 902 754 = 145 822 bytes (14 %) to spare
===================  =======  ==============================================================================

The count bounds hold for a real network: a block has at most one tx per genesis client (``MAX_CLIENTS``), each
attested by at most every validator; genesis refuses more than ``MAX_ATTESTATIONS`` client x validator pairs, so
the attested sets of a proposal stay within it. The real networks are far below: the devnet has 4 clients and 4
validators, the load test 200 clients and 4 validators (800 pairs), and a real tx is ~840 bytes (a 128-char
commitment, 59-char CIDs).
"""

from zkpot.domain.schema import Bound

MAX_MESSAGE_BYTES = 1024 * 1024  # nats-server's default max_payload: no message of the protocol is larger
MAX_VALIDATORS = 32
MAX_CLIENTS = 256
MAX_TXS = MAX_CLIENTS  # one tx per client per round
MAX_REJECTED = 256
MAX_ATTESTATIONS = 1024  # per proposal: clients x validators
MAX_ROUND = 2**32 - 1  # rounds and heights: a round a second for 136 years
MAX_SAMPLES = 1_000_000  # test samples (N) and counts of them (k)
MAX_N_TRAIN = 1_000_000_000  # training samples a member may claim, whatever genesis says
MAX_DEADLINE_S = 30 * 24 * 3600
MAX_VERSION = 2**16 - 1

HASH = Bound(lengths=(64,))  # a sha256, an Ed25519 or X25519 public key, a tx id or block hash, in hex
HASH_OR_EMPTY = Bound(lengths=(0, 64))  # a block without txs has no leader
SIGNATURE = Bound(lengths=(0, 128))  # an Ed25519 signature in hex; empty until signed
CID = Bound(chars=128)  # a CIDv1 in base32 is 59 characters for sha256, ~115 for a 512-bit hash
CID_OR_EMPTY = CID  # a CID bound caps the length only: a block without an aggregate names none
COMMITMENT = Bound(chars=512)  # up to 4 KZG points (128 hex each) or 8 Poseidon elements (64 each)
REASON = Bound(chars=64)
NAME = Bound(chars=128)
ROUND = Bound(max=MAX_ROUND)
COUNT = Bound(max=MAX_SAMPLES)
N_TRAIN = Bound(max=MAX_N_TRAIN)
VIEW = Bound(max=MAX_ROUND)  # a round's views: one per ranked member, then round-robin
AGGREGATE_TOTAL = Bound(max=MAX_CLIENTS * MAX_N_TRAIN * MAX_SAMPLES)  # the sum of fedavg_acc weights n * k
OBJECT = Bound()  # arch and circuit: the schema's defaults for opaque objects


def bounds(**fields: Bound) -> dict[str, Bound]:
    """A message's ``BOUNDS``: ``fields`` plus the ones every message shares (version, signature)."""
    return {"v": Bound(max=MAX_VERSION), "signature": SIGNATURE, **fields}

# secure aggregation (zkpot.domain.secagg): a bundle or reveal holds at most one entry per genesis client, so the
# largest (a ShareBundle of 256 sealed shares) is ~110 KB, far below MAX_MESSAGE_BYTES
MAX_VECTOR_LENGTH = 2**24  # elements of a masked vector (MNIST's model is ~100 000)
SHARE_BYTES = 4 + 2 * 32  # a Shamir share of a 32-byte secret: x, then two field elements
SEALED_SHARE_BYTES = 12 + 2 * SHARE_BYTES + 16  # nonce, the seed and key shares, Poly1305 tag
SHARE = Bound(lengths=(2 * SHARE_BYTES,))
SEALED_SHARE = Bound(chars=2 * SEALED_SHARE_BYTES, lengths=(2 * SEALED_SHARE_BYTES,))
MEMBERS = Bound(lengths=(64,), items=MAX_CLIENTS)
