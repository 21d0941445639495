"""One member's side of secure aggregation (SecAgg, Bonawitz et al. 2017; SecAgg+, Bell et al. 2020).

Phases and their messages, all public on the bus and signed by the member (the caller checks signatures):

1. **advertise keys** (``MaskKeys``): fresh X25519 keys for this round only, one to receive sealed shares and one
   to agree pairwise masks, and a commitment to the self-mask seed b_u.
2. **share** (``ShareBundle``): t-of-n Shamir shares of b_u and of the mask secret key, one sealed share per
   neighbour (``graph.neighbours``) that advertised keys. The member keeps its own share (x-coordinate among the
   others', never sent), so when it survives it reveals its own seed share too: n is degree + 1.
3. **masked input** (``MaskedInput`` and its vector blob): y_u = x_u + PRG(b_u) + sum over v of ±PRG(s_uv), over
   the neighbours v it shared with whose bundle for it arrived and opened; it lists those neighbours.
4. **reveal** (``Reveal``): once the caller fixes the survivors (run ``graph.consistent_survivors`` first) and the
   dropped, each survivor reveals its shares of the survivors' seeds and of the dropped members' mask keys.
5. **unmask** (``unmask.unmask``): anyone rebuilds those secrets from t shares and removes the masks; only the
   sum over the survivors is revealed.

Threshold: t shares of the degree + 1 in a neighbourhood rebuild a secret; take t above half of it, so the two
sides of a disagreement about who dropped can never both reach t, and at most degree + 1 - t neighbours may drop.

An honest member never reveals both b_v and the mask key of the same v in a round (with both, v's input is
exposed); never reveals its own mask key; reveals nothing before it has masked, nor when it is not among the
survivors, nor when survivors and dropped overlap or the survivors are fewer than t. ``Member.reveal`` refuses
each with ``SecAggError(secagg_refused)`` and remembers what it revealed across calls.

What remains trusted: fewer than t colluding members in any neighbourhood, the caller's agreement on the survivor
set, and its check of every message's signature and round. A member that lies in its own shares or vector can
spoil the sum (the KZG check catches that later), not learn another's input.
"""

import secrets
from collections.abc import Mapping, Sequence

from zkpot.domain.keys import SigningKey
from zkpot.domain.reasons import Reason
from zkpot.domain.secagg import crypto, field, shamir
from zkpot.domain.secagg import messages as msg
from zkpot.domain.secagg.crypto import Randomness
from zkpot.domain.secagg.errors import SecAggError
from zkpot.domain.secagg.graph import mask_sign
from zkpot.domain.secagg.prg import pair_mask, self_mask

_Shares = tuple[bytes, bytes]  # (share of the seed b_v, share of the mask secret key) one member holds of v


class Member:
    """The state of member ``signing_key`` in one round, with ``neighbourhood`` its neighbours from
    ``graph.neighbours``; the secrets come from ``randomness`` (``secrets.token_bytes`` unless a test seeds it)."""

    def __init__(self, signing_key: SigningKey, round: int, neighbourhood: Sequence[str],
                 randomness: Randomness = secrets.token_bytes) -> None:
        self.client = signing_key.public_hex
        if self.client in neighbourhood:
            raise ValueError("a member is not its own neighbour")
        self.round = round
        self.neighbourhood = tuple(sorted(set(neighbourhood)))
        self._signing_key = signing_key
        self._randomness = randomness
        self._enc_sk = crypto.generate_key(randomness)
        self._mask_sk = crypto.generate_key(randomness)
        self._seed = randomness(shamir.SECRET_BYTES)
        self._peers: dict[str, msg.MaskKeys] = {}
        self._threshold = 0
        self._own: _Shares | None = None
        self._bundle: msg.ShareBundle | None = None
        self._received: dict[str, _Shares] = {}
        self._used: tuple[str, ...] | None = None
        self._revealed: dict[str, str] = {}  # owner -> "seed" or "key"

    def keys(self) -> msg.MaskKeys:
        seed_commitment = msg.vector_sha256(self._seed)
        return msg.MaskKeys(round=self.round, client=self.client, enc_pk=crypto.public_hex(self._enc_sk),
                        mask_pk=crypto.public_hex(self._mask_sk),
                        seed_commitment=seed_commitment).sign(self._signing_key)

    def share(self, peers: Mapping[str, msg.MaskKeys], threshold: int) -> msg.ShareBundle:
        """Shares for every neighbour among ``peers`` (keys of this round); asked again, the same bundle."""
        if self._bundle is not None:
            return self._bundle
        self._peers = {v: peers[v] for v in self.neighbourhood
                       if v in peers and peers[v].client == v and peers[v].round == self.round}
        group = sorted([*self._peers, self.client])
        if len(group) < threshold:
            raise SecAggError(Reason.SECAGG_TOO_FEW_SHARES,
                              f"{len(group)} members to share with (self included), the threshold is {threshold}")
        xs = {m: i + 1 for i, m in enumerate(group)}
        seeds = shamir.split(self._seed, threshold, list(xs.values()), self._randomness)
        masks = shamir.split(crypto.private_bytes(self._mask_sk), threshold, list(xs.values()), self._randomness)
        self._threshold, self._own = threshold, (seeds[xs[self.client]], masks[xs[self.client]])
        sealed = tuple(msg.EncryptedShare(recipient=v, ciphertext=self._seal(v, seeds[xs[v]] + masks[xs[v]]))
                       for v in sorted(self._peers))
        self._bundle = msg.ShareBundle(round=self.round, client=self.client, shares=sealed).sign(self._signing_key)
        return self._bundle

    def mask(self, x: Sequence[int], bundles: Mapping[str, msg.ShareBundle]) -> tuple[list[int], tuple[str, ...]]:
        """y_u as field elements, and the neighbours masked with: those shared with whose bundle opened."""
        if self._bundle is None:
            raise SecAggError(Reason.SECAGG_REFUSED, "mask before share: no neighbour could rebuild the masks")
        if self._used is None:
            self._used = tuple(v for v in sorted(self._peers) if self._open(bundles, v) is not None)
        y = field.to_field(x)
        field.add_into(y, self_mask(self._seed, len(y)))
        for v in self._used:
            seed = crypto.pair_seed(self._mask_sk, self._peers[v].mask_pk, self.round, self.client, v)
            field.add_into(y, pair_mask(seed, len(y)), mask_sign(self.client, v))
        return field.reduce(y), self._used

    def masked_input(self, tx_id: str, blob: bytes, vector_cid: str) -> msg.MaskedInput:
        """The signed message for the stored blob of ``mask``'s vector (``messages.encode_vector``)."""
        if self._used is None:
            raise SecAggError(Reason.SECAGG_REFUSED, "no masked vector yet")
        return msg.MaskedInput(round=self.round, client=self.client, tx_id=tx_id,
                               vector_sha256=msg.vector_sha256(blob), vector_cid=vector_cid,
                               neighbours=self._used).sign(self._signing_key)

    def reveal(self, bundles: Mapping[str, msg.ShareBundle], survivors: Sequence[str],
               dropped: Sequence[str]) -> msg.Reveal:
        """Seed shares of ``survivors`` and mask-key shares of ``dropped``, for every owner whose share for this
        member opens; ``SecAggError(secagg_refused)`` for anything an honest member must not reveal."""
        alive, gone = set(survivors), set(dropped)
        self._check_reveal(alive, gone)
        held = {v: s for v in sorted(alive | gone) if (s := self._shares_of(bundles, v)) is not None}
        kinds = {v: "seed" if v in alive else "key" for v in held}
        both = sorted(v for v, kind in kinds.items() if self._revealed.get(v, kind) != kind)
        if both:
            raise SecAggError(Reason.SECAGG_REFUSED, f"already revealed the other secret of {len(both)} member(s)")
        self._revealed.update(kinds)
        seeds = tuple(msg.RevealedShare(owner=v, share=held[v][0].hex()) for v in held if kinds[v] == "seed")
        keys = tuple(msg.RevealedShare(owner=v, share=held[v][1].hex()) for v in held if kinds[v] == "key")
        return msg.Reveal(round=self.round, client=self.client, seeds=seeds, keys=keys).sign(self._signing_key)

    def _check_reveal(self, alive: set[str], gone: set[str]) -> None:
        if self._used is None:
            raise SecAggError(Reason.SECAGG_REFUSED, "reveal before masking")
        if alive & gone:
            raise SecAggError(Reason.SECAGG_REFUSED, "a member is both a survivor and dropped")
        if self.client not in alive:
            raise SecAggError(Reason.SECAGG_REFUSED, "this member is not among the survivors (it never reveals "
                                                     "its own mask key)")
        if len(alive) < self._threshold:
            raise SecAggError(Reason.SECAGG_REFUSED,
                              f"{len(alive)} survivors, fewer than the threshold {self._threshold}")

    def _shares_of(self, bundles: Mapping[str, msg.ShareBundle], owner: str) -> _Shares | None:
        if owner == self.client:
            return self._own
        return self._open(bundles, owner) if owner in self._peers else None

    def _seal(self, recipient: str, plaintext: bytes) -> str:
        aad = crypto.share_aad(self.round, self.client, recipient)
        return crypto.seal_share(self._enc_sk, self._peers[recipient].enc_pk, plaintext, aad, self._randomness).hex()

    def _open(self, bundles: Mapping[str, msg.ShareBundle], sender: str) -> _Shares | None:
        """``sender``'s shares for this member, or None when its bundle is missing, for another round, or bad."""
        if sender in self._received:
            return self._received[sender]
        bundle = bundles.get(sender)
        sealed = bundle.share_for(self.client) if bundle and bundle.client == sender else None
        if bundle is None or sealed is None or bundle.round != self.round:
            return None
        aad = crypto.share_aad(self.round, sender, self.client)
        try:
            plain = crypto.open_share(self._enc_sk, self._peers[sender].enc_pk, bytes.fromhex(sealed.ciphertext), aad)
            shares = plain[:shamir.SHARE_BYTES], plain[shamir.SHARE_BYTES:]
            for share in shares:
                shamir.decode(share)
        except SecAggError:
            return None
        self._received[sender] = shares
        return shares
