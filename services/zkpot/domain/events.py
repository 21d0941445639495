"""Service-level events around the protocol messages: round opening, proof jobs and results, proposals, finality.

Same conventions as the domain's wire messages (frozen dataclasses, schema version ``v``, strict decoding that
ignores unknown fields). Bundles carry the attestations and votes a receiver needs to check a block on its own.
"""

from __future__ import annotations

import dataclasses

from zkpot.domain import Attestation, Block, Vote
from zkpot.domain import limits as lim
from zkpot.domain.errors import MalformedMessage
from zkpot.domain.limits import CID, COMMITMENT, COUNT, HASH, NAME, ROUND, SIGNATURE, bounds
from zkpot.domain.messages import SCHEMA_VERSION
from zkpot.domain.schema import Bound, Message, SignedMessage


@dataclasses.dataclass(frozen=True)
class RoundOpen(SignedMessage):
    """The producer opens a round: members train from ``global_model_cid`` and submit before ``deadline_ms``.
    Signed by the genesis producer; a trainer acts on no other."""

    round: int
    parent: str
    global_model_cid: str
    deadline_ms: int
    producer: str = ""
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "producer"
    HEX_FIELDS = frozenset({"parent", "producer", "signature"})
    BOUNDS = bounds(round=ROUND, parent=HASH, global_model_cid=CID, producer=lim.HASH_OR_EMPTY, signature=SIGNATURE)


@dataclasses.dataclass(frozen=True)
class ProveJob(SignedMessage):
    """A member's request to prove its model: the weights sealed to the prover's key, by CID. Signed by the member
    (``client``); a prover proves for no one else."""

    job_id: str
    client: str
    member: str
    round: int
    parent: str
    weights_cid: str
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "client"
    HEX_FIELDS = frozenset({"job_id", "client", "parent", "signature"})
    BOUNDS = bounds(job_id=HASH, client=HASH, member=NAME, round=ROUND, parent=HASH, weights_cid=CID,
                    signature=SIGNATURE)


@dataclasses.dataclass(frozen=True)
class ProofDone(SignedMessage):
    """A prover's result for one job; ``finished_ms`` becomes the transaction timestamp (so re-signing is stable).
    Signed by a genesis prover (``prover``); a trainer takes no other's word for its proof."""

    job_id: str
    client: str
    round: int
    proof_cid: str
    commitment: str
    correct: int
    samples: int
    finished_ms: int
    prove_ms: int
    prover: str = ""
    signature: str = ""
    v: int = SCHEMA_VERSION

    SIGNER = "prover"
    HEX_FIELDS = frozenset({"job_id", "client", "commitment", "prover", "signature"})
    BOUNDS = bounds(job_id=HASH, client=HASH, round=ROUND, proof_cid=CID, commitment=COMMITMENT, correct=COUNT,
                    samples=COUNT, prover=lim.HASH_OR_EMPTY, signature=SIGNATURE)


@dataclasses.dataclass(frozen=True)
class AttestationSet(Message):
    """The attestations of one transaction."""

    tx_id: str
    attestations: tuple[Attestation, ...]
    v: int = SCHEMA_VERSION

    HEX_FIELDS = frozenset({"tx_id"})
    BOUNDS = bounds(tx_id=HASH, attestations=Bound(items=lim.MAX_VALIDATORS))


@dataclasses.dataclass(frozen=True)
class Certificate(Message):
    """A finality certificate: a quorum of genesis validators' accepting votes for the block ``block_hash`` at
    ``height``. Genesis needs none: the first block's proposal carries ``NO_CERTIFICATE``."""

    block_hash: str
    height: int
    votes: tuple[Vote, ...]
    v: int = SCHEMA_VERSION

    HEX_FIELDS = frozenset({"block_hash"})
    BOUNDS = bounds(block_hash=lim.HASH_OR_EMPTY, height=ROUND, votes=Bound(items=lim.MAX_VALIDATORS))


NO_CERTIFICATE = Certificate("", 0, ())


@dataclasses.dataclass(frozen=True)
class Proposal(Message):
    """A proposed block with the attestations that justify each included transaction, and the finality
    certificate of its parent (so a validator that missed the parent's ``block.finalized`` catches up first)."""

    block: Block
    attested: tuple[AttestationSet, ...]
    v: int = SCHEMA_VERSION
    parent: Certificate = NO_CERTIFICATE

    BOUNDS = bounds(attested=Bound(items=lim.MAX_TXS))

    def check_bounds(self) -> None:
        total = sum(len(s.attestations) for s in self.attested)
        if total > lim.MAX_ATTESTATIONS:
            raise MalformedMessage(f"Proposal: {total} attestations, at most {lim.MAX_ATTESTATIONS}")

    def attestations(self) -> dict[str, list[Attestation]]:
        return {s.tx_id: list(s.attestations) for s in self.attested}

    @classmethod
    def of(cls, block: Block, attestations: dict[str, list[Attestation]],
           parent: Certificate = NO_CERTIFICATE) -> Proposal:
        sets = tuple(AttestationSet(tx.tx_id, tuple(attestations.get(tx.tx_id, ()))) for tx in block.txs)
        return cls(block, sets, parent=parent)


@dataclasses.dataclass(frozen=True)
class Finalized(Message):
    """A final block: the proposal plus the quorum of votes that made it final (a self-contained certificate)."""

    proposal: Proposal
    votes: tuple[Vote, ...]
    v: int = SCHEMA_VERSION

    BOUNDS = bounds(votes=Bound(items=lim.MAX_VALIDATORS))

    @property
    def block(self) -> Block:
        return self.proposal.block

    @property
    def certificate(self) -> Certificate:
        """This block's own finality certificate (what the next proposal carries as its ``parent``)."""
        return Certificate(self.block.hash, self.block.header.height, self.votes)
