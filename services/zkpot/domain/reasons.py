"""Reason codes: why a transaction, block or vote was accepted or refused.

A refusal is data, not an exception: validators sign it into attestations and votes, the producer stores it
beside rejected transactions, and metrics count rejections by these values. The values are part of the wire
format, so never rename one; add new members instead.
"""

import enum


class Reason(enum.StrEnum):
    """Outcome of a validation rule; ``Reason.OK`` means the rule passed."""

    OK = "ok"
    # transaction level
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_CLIENT = "unknown_client"
    WRONG_ROUND = "wrong_round"
    WRONG_PARENT = "wrong_parent"
    DUPLICATE_CLIENT_TX = "duplicate_client_tx"
    REUSED_COMMITMENT = "reused_commitment"
    PROOF_HASH_MISMATCH = "proof_hash_mismatch"
    PROOF_INVALID = "proof_invalid"
    CLAIM_MISMATCH = "claim_mismatch"
    COMMITMENT_MISMATCH = "commitment_mismatch"
    TEST_SET_MISMATCH = "test_set_mismatch"
    MODEL_COMMITMENT_MISMATCH = "model_commitment_mismatch"
    MODEL_UNAVAILABLE = "model_unavailable"
    DEADLINE_PASSED = "deadline_passed"
    N_TRAIN_OUT_OF_RANGE = "n_train_out_of_range"
    # block level
    WRONG_HEIGHT = "wrong_height"
    WRONG_PREV_HASH = "wrong_prev_hash"
    GENESIS_MISMATCH = "genesis_mismatch"
    BAD_PRODUCER = "bad_producer"
    BAD_PRODUCER_SIGNATURE = "bad_producer_signature"
    BAD_TX_ROOT = "bad_tx_root"
    TX_NOT_ATTESTED = "tx_not_attested"
    WRONG_LEADER = "wrong_leader"
    BAD_COUNTS = "bad_counts"
    MODEL_HASH_MISMATCH = "model_hash_mismatch"
    GLOBAL_ACCURACY_MISMATCH = "global_accuracy_mismatch"
    GLOBAL_ACCURACY_BELOW_FLOOR = "global_accuracy_below_floor"
    BAD_VOTE = "bad_vote"
    NO_QUORUM = "no_quorum"
    EQUIVOCATION = "equivocation"
    BAD_CERTIFICATE = "bad_certificate"
    CHAIN_GAP = "chain_gap"
    OMITTED_TX = "omitted_tx"
    WRONG_PROPOSER = "wrong_proposer"
    AGGREGATE_MISMATCH = "aggregate_mismatch"
    GLOBAL_MODEL_NOT_AGGREGATE = "global_model_not_aggregate"
    AGGREGATE_UNOPENABLE = "aggregate_unopenable"
    # events that make a service act (round.open, jobs.prove, proof.done)
    UNKNOWN_SIGNER = "unknown_signer"
    WRONG_SUBJECT = "wrong_subject"
    # secure aggregation (zkpot.domain.secagg)
    SECAGG_TOO_FEW_SHARES = "secagg_too_few_shares"
    SECAGG_BAD_SHARE = "secagg_bad_share"
    SECAGG_BAD_KEY = "secagg_bad_key"
    SECAGG_INCONSISTENT = "secagg_inconsistent"
    SECAGG_REFUSED = "secagg_refused"


DESCRIPTIONS: dict[Reason, str] = {
    Reason.OK: "all rules passed",
    Reason.MALFORMED: "the message is missing data, has wrong types, or its proof could not be obtained",
    Reason.BAD_SIGNATURE: "the Ed25519 signature does not verify under the signer's key",
    Reason.UNKNOWN_CLIENT: "the client key is not in the genesis client registry",
    Reason.UNKNOWN_SIGNER: "the event is not signed by the genesis party it must come from",
    Reason.WRONG_SUBJECT: "the event names another member than the subject it came on",
    Reason.WRONG_ROUND: "the round is not the one currently open (or does not advance)",
    Reason.WRONG_PARENT: "the parent is not the hash of the block the round builds on",
    Reason.DUPLICATE_CLIENT_TX: "the client already submitted a transaction in this round",
    Reason.REUSED_COMMITMENT: "the weight commitment was already used in this or an earlier round",
    Reason.PROOF_HASH_MISMATCH: "the proof bytes do not hash to the sha256 named in the transaction",
    Reason.PROOF_INVALID: "the proof does not verify under the genesis verifying key",
    Reason.CLAIM_MISMATCH: "the claimed correct count or sample count differs from the proof or the task",
    Reason.COMMITMENT_MISMATCH: "the transaction's commitment differs from the one the proof binds",
    Reason.TEST_SET_MISMATCH: "the proof's public instances are not the genesis test set",
    Reason.MODEL_COMMITMENT_MISMATCH: "the decrypted model does not open the transaction's commitment",
    Reason.MODEL_UNAVAILABLE: "the encrypted model could not be fetched or decrypted",
    Reason.DEADLINE_PASSED: "the transaction arrived after the round deadline",
    Reason.N_TRAIN_OUT_OF_RANGE: "the claimed training-set size is below 1 or above the genesis max_n_train",
    Reason.WRONG_HEIGHT: "the block height does not follow the previous block",
    Reason.WRONG_PREV_HASH: "the block does not point at the previous block (or genesis)",
    Reason.GENESIS_MISMATCH: "the block names a different genesis (task)",
    Reason.BAD_PRODUCER: "the block producer is not the genesis producer",
    Reason.BAD_PRODUCER_SIGNATURE: "the producer's signature over the block hash does not verify",
    Reason.BAD_TX_ROOT: "the tx Merkle root is wrong or the transactions are not sorted by tx id",
    Reason.TX_NOT_ATTESTED: "an included transaction lacks a quorum of valid attestations",
    Reason.WRONG_LEADER: "the leader is not the highest proven accuracy (ties: lowest tx id)",
    Reason.BAD_COUNTS: "the accepted / rejected counts or the rejected entries do not match the body",
    Reason.MODEL_HASH_MISMATCH: "the global model bytes do not hash to the header's model sha256",
    Reason.GLOBAL_ACCURACY_MISMATCH: "the recomputed global accuracy differs from the header's claim",
    Reason.GLOBAL_ACCURACY_BELOW_FLOOR: "the global accuracy is below the genesis accuracy floor",
    Reason.BAD_VOTE: "a vote is for another block, from a non-validator, or badly signed",
    Reason.NO_QUORUM: "fewer than the genesis quorum of validators accepted the block",
    Reason.EQUIVOCATION: "the producer signed another block at this height (this validator accepts one per height)",
    Reason.BAD_CERTIFICATE: "the parent's finality certificate is not a quorum of valid accepting votes for the parent",
    Reason.CHAIN_GAP: "a certified block does not link to this validator's chain through blocks it holds",
    Reason.OMITTED_TX: "the block leaves out a transaction that is aggregatable (attested by a quorum, masked in time)",
    Reason.WRONG_PROPOSER: "the proposal is not from the producer of the proven-best member whose view it is",
    Reason.AGGREGATE_MISMATCH: "the aggregate does not open the weighted sum of the included txs' commitments",
    Reason.GLOBAL_MODEL_NOT_AGGREGATE: "the global model is not the aggregate decoded by the genesis rule",
    Reason.AGGREGATE_UNOPENABLE: "the survivors' masked vectors sum to nothing their commitments open (a member "
                                 "masked with garbage): the round's txs are left out and the model carries over",
    Reason.SECAGG_TOO_FEW_SHARES: "fewer than the threshold of shares to rebuild a secure-aggregation secret",
    Reason.SECAGG_BAD_SHARE: "a secure-aggregation share does not open, parse or rebuild a secret that checks",
    Reason.SECAGG_BAD_KEY: "a secure-aggregation key is malformed or does not match the key it was advertised as",
    Reason.SECAGG_INCONSISTENT: "the masked inputs disagree on who masked with whom, so the masks cannot cancel",
    Reason.SECAGG_REFUSED: "an honest member refuses a reveal that could expose a single member's input",
}
