"""What secure, verifiable aggregation costs a round, against the first design's trusted producer.

One round of the protocol in this process for n members, with the real messages and encodings (the bus would
carry the same bytes), the real model message of the task and, for the commitment, the real circuit: bytes each
member sends per phase, seconds per phase (a member's share of the work, and the aggregator's and each validator's),
for n in e.g. 4, 50 and 200 and a neighbourhood degree (SecAgg+; all others when it is at least n - 1). The first
design's figures beside: a member uploads its sealed model, the producer opens each and re-derives its commitment.
No network here: the load test measures the bus and the services; this measures the protocol.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from zkpot.domain import SigningKey, seal, sha256_hex
from zkpot.domain.encoding import canonical
from zkpot.domain.keys import BoxKeyPair
from zkpot.domain.secagg import MaskedVector, Member, consistent_survivors, encode_vector, neighbours, unmask
from zkpot.domain.secagg.prg import SeededRandomness
from zkpot.domain.verifiable import aggregate_holds, encode
from zkpot.ml.model import init_weights, weights_to_bytes
from zkpot.zk.system import ProofSystem

ROUND, TX = 1, "ab" * 32


def measure(system: ProofSystem, members: int, degree: int, dropped: int = 0,
            progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """One round: ``members`` mask their model messages (``dropped`` of them never send their masked vector)."""
    layout = system.aggregate_layout()
    keys = [SigningKey.from_seed(bytes([7, i % 256, i // 256]) + bytes(29)) for i in range(members)]
    ids = [k.public_hex for k in keys]
    hoods = {k.public_hex: neighbours(ids, k.public_hex, degree, b"bench") for k in keys}
    threshold = (min(len(h) for h in hoods.values()) + 1) // 2 + 1  # more than half of each neighbourhood
    group = [Member(k, ROUND, hoods[k.public_hex], SeededRandomness(k.public_hex.encode())) for k in keys]
    models = [encode(layout, init_weights(system.arch, 100 + i)) for i in range(members)]
    weights = [300 + i for i in range(members)]  # integer FedAvg weights (n_train), as a round has them
    inputs = [[a * v for v in m] for a, m in zip(weights, models, strict=True)]
    t: dict[str, list[float]] = {"keys": [], "share": [], "mask": [], "reveal": []}
    size: dict[str, list[int]] = {"keys": [], "shares": [], "masked": [], "reveal": []}
    progress(f"{members} members: keys")
    adverts = {}
    for m in group:
        t0 = time.perf_counter()
        adverts[m.client] = m.keys()
        t["keys"].append(time.perf_counter() - t0)
        size["keys"].append(len(canonical(adverts[m.client].to_dict())))
    progress(f"{members} members: shares")
    bundles = {}
    for m in group:
        t0 = time.perf_counter()
        bundles[m.client] = m.share(adverts, threshold)
        t["share"].append(time.perf_counter() - t0)
        size["shares"].append(len(canonical(bundles[m.client].to_dict())))
    progress(f"{members} members: masked vectors")
    masked = {}
    for m, x in zip(group[dropped:], inputs[dropped:], strict=True):
        t0 = time.perf_counter()
        y, _ = m.mask(x, bundles)
        blob = encode_vector(y)
        message = m.masked_input(TX, blob, "bafy-bench")
        t["mask"].append(time.perf_counter() - t0)
        size["masked"].append(len(blob) + len(canonical(message.to_dict())))
        masked[m.client] = MaskedVector.from_blob(message, blob, len(y))
    survivors = list(consistent_survivors(adverts, {u: v.message for u, v in masked.items()}))
    gone = [u for u in ids if u not in survivors]
    progress(f"{members} members: reveals")
    reveals = []
    for m in (m for m in group if m.client in survivors):
        t0 = time.perf_counter()
        reveals.append(m.reveal(bundles, survivors, gone))
        t["reveal"].append(time.perf_counter() - t0)
        size["reveal"].append(len(canonical(reveals[-1].to_dict())))
    progress(f"{members} members: unmask, commit, check")
    t0 = time.perf_counter()
    summed = unmask(adverts, {u: masked[u] for u in survivors}, reveals, threshold, ROUND)
    unmask_s = time.perf_counter() - t0
    expected = [sum(col) for col in zip(*inputs[dropped:], strict=True)]
    t0 = time.perf_counter()
    commitment = system.commit_message(summed)
    commit_s = time.perf_counter() - t0
    members_c = [system.commit_message(x) for x in models[dropped:]]  # what each member's proof exposes
    t0 = time.perf_counter()
    holds = aggregate_holds(members_c, weights[dropped:], layout.c0, commitment)
    combine_s = time.perf_counter() - t0
    per_member = {k: round(statistics.mean(v)) for k, v in size.items() if v}
    return {
        "members": members, "degree": min(degree, members - 1), "threshold": threshold, "dropped": dropped,
        "elements": layout.elements, "sum_exact": summed == expected, "aggregate_holds": holds,
        "bytes_per_member": per_member | {"total": sum(per_member.values())},
        "member_s": {k: round(statistics.mean(v), 4) for k, v in t.items() if v},
        "aggregator_s": {"unmask": round(unmask_s, 3), "commit_sum": round(commit_s, 3)},
        "validator_s": {"commit_sum": round(commit_s, 3), "combine": round(combine_s, 3),
                        "total": round(commit_s + combine_s, 3)},
    }


def first_design(system: ProofSystem, members: int) -> dict[str, Any]:
    """The first design's round for comparison: each member uploads its sealed model; the producer opens it and
    re-derives its commitment (one witness each), then averages."""
    box = BoxKeyPair.generate()
    weights = init_weights(system.arch, 100)
    sealed = seal(weights_to_bytes(weights), box.public_hex)
    t0 = time.perf_counter()
    system.commitment(weights)
    per_model = time.perf_counter() - t0
    return {"members": members, "bytes_per_member": {"sealed_model": len(sealed), "total": len(sealed)},
            "producer_s": {"rederive_commitments": round(per_model * members, 2), "per_model": round(per_model, 3)},
            "sealed_sha256": sha256_hex(sealed)[:12]}


def table(rows: Sequence[dict[str, Any]], before: Sequence[dict[str, Any]]) -> str:
    """A markdown table of ``measure`` rows beside the first design's."""
    lines = ["| members | degree | t | bytes/member (keys + shares + masked + reveal) | member s (share + mask + "
             "reveal) | aggregator unmask s | validator check s | first design: bytes/member, producer s |",
             "|---|---|---|---|---|---|---|---|"]
    old = {r["members"]: r for r in before}
    for r in rows:
        b, s = r["bytes_per_member"], r["member_s"]
        o = old.get(r["members"], {})
        lines.append(
            f"| {r['members']} | {r['degree']} | {r['threshold']} | {b['total']:,} ({b['keys']} + {b['shares']:,} + "
            f"{b['masked']:,} + {b.get('reveal', 0):,}) | {s['share'] + s['mask'] + s.get('reveal', 0):.3f} | "
            f"{r['aggregator_s']['unmask']:.2f} | {r['validator_s']['total']:.2f} | "
            f"{o.get('bytes_per_member', {}).get('total', 0):,}, "
            f"{o.get('producer_s', {}).get('rederive_commitments', 0)} |")
    return "\n".join(lines)
