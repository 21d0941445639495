"""The stream and subject layout of the network, as data: services, both buses and docs/messaging.md read it.

To add a subject, add a ``SubjectSpec`` to its stream below (and a name constant), then run
``python -m zkpot.bus.subjects`` and paste the table into docs/messaging.md (a test checks they agree).
"""

from __future__ import annotations

import dataclasses
import enum

from zkpot.bus.wildcards import check_token, collide, matches

DUPLICATE_WINDOW_S = 600.0

ROUND_OPEN = "zkpot.round.open"
BLOCK_PROPOSED = "zkpot.block.proposed"
BLOCK_FINALIZED = "zkpot.block.finalized"
BLOCK_VOTE = "zkpot.block.vote"
TX_SUBMITTED = "zkpot.tx.submitted"
TX_ATTESTED = "zkpot.tx.attested"
PROVE_JOBS = "zkpot.jobs.prove.*"
PROOF_DONE = "zkpot.proof.done.*"
# secure aggregation (docs/consensus.md): one subject per phase and member, so a member publishes only its own
SECAGG_KEYS = "zkpot.secagg.keys.*"
SECAGG_SHARES = "zkpot.secagg.shares.*"
SECAGG_MASKED = "zkpot.secagg.masked.*"
SECAGG_REVEAL = "zkpot.secagg.reveal.*"
SECAGG = (SECAGG_KEYS, SECAGG_SHARES, SECAGG_MASKED, SECAGG_REVEAL)

EVENTS = "ZKPOT_EVENTS"
JOBS = "ZKPOT_JOBS"


class Retention(enum.StrEnum):
    """JetStream retention: ``limits`` keeps messages for every consumer; ``workqueue`` removes them once acked."""

    LIMITS = "limits"
    WORK_QUEUE = "workqueue"


@dataclasses.dataclass(frozen=True)
class SubjectSpec:
    """One subject (``*`` for a per-member token), what it carries and which ``Nats-Msg-Id`` it is published with."""

    subject: str
    payload: str
    msg_id: str


@dataclasses.dataclass(frozen=True)
class StreamSpec:
    """One JetStream stream on file storage."""

    name: str
    retention: Retention
    subjects: tuple[SubjectSpec, ...]
    description: str
    duplicate_window_s: float = DUPLICATE_WINDOW_S

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(s.subject for s in self.subjects)

    def holds(self, subject: str) -> bool:
        """True if a message published on the literal ``subject`` is stored in this stream."""
        return any(matches(p, subject) for p in self.patterns)

    def overlaps(self, subject_filter: str) -> bool:
        """True if a consumer filter could select messages of this stream."""
        return any(collide(p, subject_filter) for p in self.patterns)


@dataclasses.dataclass(frozen=True)
class Layout:
    """The streams of one deployment; a subject belongs to exactly one stream."""

    streams: tuple[StreamSpec, ...]

    def stream(self, name: str) -> StreamSpec:
        for spec in self.streams:
            if spec.name == name:
                return spec
        raise KeyError(f"no stream named {name!r} in the layout")

    def stream_for(self, subject: str) -> StreamSpec | None:
        """The stream storing messages published on ``subject``, or None if no stream does."""
        return next((s for s in self.streams if s.holds(subject)), None)

    def stream_for_filters(self, filters: tuple[str, ...]) -> StreamSpec:
        """The one stream every filter selects from; ValueError if a filter selects none or spans streams."""
        found = {s.name: s for f in filters for s in self.streams if s.overlaps(f)}
        if len(found) != 1:
            where = ", ".join(sorted(found)) or "no stream"
            raise ValueError(f"subject filter(s) {', '.join(filters)} must select from one stream, not {where}")
        return next(iter(found.values()))


LAYOUT = Layout(
    streams=(
        StreamSpec(
            EVENTS,
            Retention.LIMITS,
            (
                SubjectSpec(ROUND_OPEN, "{round, parent, global_model_cid, deadline_ms}", "round-<round>"),
                SubjectSpec(BLOCK_PROPOSED, "the full Block dict", "proposed-<block hash>"),
                SubjectSpec(BLOCK_FINALIZED, "{height, hash, round, ...}", "final-<block hash>"),
                SubjectSpec(TX_SUBMITTED, "the Transaction dict", "<tx id>"),
                SubjectSpec(TX_ATTESTED, "the Attestation dict", "<attestation id>"),
                SubjectSpec(BLOCK_VOTE, "the Vote dict", "<vote id>"),
                SubjectSpec(PROOF_DONE, "{job_id, client, round, proof_cid, proof_sha256, commitment, correct, "
                            "samples, prove_s}: a prover's result for one member's trainer", "proof-<job id>"),
                SubjectSpec(SECAGG_KEYS, "MaskKeys: a member's fresh X25519 keys for the round", "<payload id>"),
                SubjectSpec(SECAGG_SHARES, "ShareBundle: its Shamir shares, sealed to each neighbour",
                            "<payload id>"),
                SubjectSpec(SECAGG_MASKED, "MaskedInput: the CID and hash of its masked vector", "<payload id>"),
                SubjectSpec(SECAGG_REVEAL, "Reveal: its shares of survivors' seeds and dropped members' keys",
                            "<payload id>"),
            ),
            "protocol events; every service instance reads them through its own durable consumer",
        ),
        StreamSpec(
            JOBS,
            Retention.WORK_QUEUE,
            (
                SubjectSpec(PROVE_JOBS, "{job_id, client, round, parent, model_cid, model_sha256, n_train, ...}",
                            "<job id>"),
            ),
            "proof jobs, one subject per member; the prover pool shares ONE durable consumer (each job to one prover)",
        ),
    )
)


def prove_subject(member: str) -> str:
    """The jobs subject of one federation member (its client key or index, a single subject token)."""
    return PROVE_JOBS.replace("*", check_token(member, "member"))


def proof_done_subject(member: str) -> str:
    """The subject a member's trainer learns its proof on."""
    return PROOF_DONE.replace("*", check_token(member, "member"))


def secagg_subject(phase: str, member: str) -> str:
    """The subject member ``member`` (its client index) publishes a secure-aggregation ``phase`` message on."""
    for pattern in SECAGG:
        if pattern.split(".")[2] == phase:
            return pattern.replace("*", check_token(member, "member"))
    raise ValueError(f"no secure-aggregation phase {phase!r}; expected keys, shares, masked or reveal")


def round_open_id(round_: int) -> str:
    return f"round-{round_}"


def proposed_id(block_hash: str) -> str:
    return f"proposed-{block_hash}"


def finalized_id(block_hash: str) -> str:
    return f"final-{block_hash}"


def markdown_table(layout: Layout = LAYOUT) -> str:
    """The subject table of docs/messaging.md."""
    rows = ["| stream | retention | subject | payload (JSON) | logical msg id |", "|---|---|---|---|---|"]
    for stream in layout.streams:
        for s in stream.subjects:
            rows.append(f"| {stream.name} | {stream.retention} | `{s.subject}` | {s.payload} | `{s.msg_id}` |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
