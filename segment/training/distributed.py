"""Many-process training under torchrun: process group, sampler, DDP wrapping, reductions.

`torchrun --nproc_per_node N -m segment train ...` starts N copies of `segment train` and sets
RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE and the rendezvous address in each one's
environment. `start` reads them and joins the process group: NCCL when the run trains on CUDA
(one GPU per process, cuda:LOCAL_RANK), gloo otherwise. Without those variables (or with
WORLD_SIZE=1) nothing is started and every helper here is the identity, so single-process
training is unchanged, byte for byte.

The division of work: every rank reads the dataset, trains on its DistributedSampler share
and scores its share of the validation split; gradients are averaged by DDP, and the loss and
the confusion counts are summed over the ranks, so every rank sees the same scores and takes
the same decisions (best epoch, early stop, LR schedule). Rank 0 alone writes the run folder
and prints.
"""

from __future__ import annotations

import atexit
import gc
import os
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import torch
import torch.distributed as dist

from segment.errors import USER_ERRORS, ConfigError, SegmentError

T = TypeVar("T")


@dataclass(frozen=True)
class Processes:
    """This process's place among the training processes, as torchrun describes it."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def main(self) -> bool:
        """Rank 0 alone writes checkpoints, logs and metrics, and reports progress."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not an integer; torchrun sets RANK, WORLD_SIZE, "
                          "LOCAL_RANK and LOCAL_WORLD_SIZE itself: unset them to train on one "
                          "process") from exc


def from_environment() -> Processes:
    """The ranks torchrun put in the environment; one process when there are none."""
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", rank)
    local_world = _env_int("LOCAL_WORLD_SIZE", world)
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"RANK={rank} and WORLD_SIZE={world} do not describe a process group "
                          "(expected 0 <= RANK < WORLD_SIZE); start the run with torchrun")
    return Processes(rank, world, local, local_world)


def _backend(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def _check_device(processes: Processes, device: torch.device) -> None:
    """Refuse a device that cannot take part; the same answer on every rank of a machine."""
    if device.type == "mps":
        raise ConfigError("MPS cannot train on several processes (torch.distributed has no MPS "
                          "backend); run one process, or pass --device cpu")
    if device.type == "cuda" and processes.local_world_size > torch.cuda.device_count():
        raise ConfigError(
            f"{processes.local_world_size} processes on this machine but "
            f"{torch.cuda.device_count()} GPU(s) visible; each process needs its own GPU: pass "
            f"--nproc_per_node {torch.cuda.device_count()} to torchrun, or --device cpu")


def start(device: torch.device) -> torch.device:
    """Join the process group when torchrun started several processes (NCCL on CUDA, gloo
    otherwise); returns the device this process trains on (cuda:LOCAL_RANK on CUDA)."""
    processes = from_environment()
    if processes.world_size == 1:
        return device
    if not dist.is_available():
        raise ConfigError("torchrun started several processes but this torch build has no "
                          "torch.distributed; run one process, or install a torch build with it")
    _check_device(processes, device)
    if device.type == "cuda":
        device = torch.device("cuda", processes.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(_backend(device))
        atexit.register(stop)
    return device


def finish() -> None:
    """Leave the process group together at the end of a run. The barrier lets every rank's
    pending work complete before any rank closes its connections, and the group is destroyed
    while Python is whole: a rank left to tear gloo down at interpreter exit was seen to abort
    ('terminate called without an active exception', SIGABRT) after a run that had finished."""
    if active():
        gc.collect()   # the DDP wrapper's reducer holds the group; let it go first
        dist.barrier()
    stop()


def stop() -> None:
    """Leave the process group (registered at exit by `start`)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def active() -> bool:
    """True when several processes train together."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def backend() -> str:
    """The collective backend (gloo, nccl), or "none" on one process."""
    return str(dist.get_backend()) if active() else "none"


def is_main() -> bool:
    """True on rank 0 and on a single process: the one that writes and prints."""
    return rank() == 0


def device_of(device: torch.device) -> torch.device:
    """The device of this rank: cuda:LOCAL_RANK when training on CUDA across processes."""
    if active() and device.type == "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return device


class RankFailed(SegmentError):
    """Rank 0 failed with an error that is not a SegmentError; the other ranks stop too."""


def on_main(action: Callable[[], T]) -> T:
    """Run `action` on rank 0 only and hand its result to every rank. An exception it raises
    is raised on every rank, so no rank waits forever for one that has failed."""
    if not active():
        return action()
    box: list[Any] = [None, None]
    if dist.get_rank() == 0:
        try:
            box[0] = action()
        except USER_ERRORS as exc:
            box[1] = exc
        except Exception as exc:
            box[1] = RankFailed(f"rank 0 failed: {type(exc).__name__}: {exc}")
            dist.broadcast_object_list(box, src=0)
            raise
    dist.broadcast_object_list(box, src=0)
    if box[1] is not None:
        raise box[1]
    return box[0]


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around the model when several processes train, else the model.

    DDP broadcasts rank 0's weights at construction and averages gradients in backward, so
    the weights stay equal on all ranks.
    """
    if not active():
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def sampler(data: torch.utils.data.Dataset, seed: int, epoch: int):
    """This rank's share of a (seed, epoch)-shuffled order, or None on one process.

    DistributedSampler pads the order (repeating a few pairs) so that every rank gets the same
    number of pairs, hence the same number of steps, which DDP needs.
    """
    if not active():
        return None
    chosen = torch.utils.data.DistributedSampler(data, shuffle=True, seed=seed)
    chosen.set_epoch(epoch)
    return chosen


def share(length: int) -> int:
    """Pairs per rank out of `length` (DistributedSampler's padded share)."""
    world = world_size()
    return -(-length // world)


def shard(length: int) -> slice:
    """This rank's rows of an evaluation split (every world_size-th row, none repeated)."""
    if not active():
        return slice(0, length)
    return slice(dist.get_rank(), length, dist.get_world_size())


def _collective_device(values: torch.Tensor) -> torch.device:
    # NCCL reduces CUDA tensors only; gloo takes them where they are.
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return values.device


def sum_all(values: torch.Tensor) -> torch.Tensor:
    """Elementwise sum over the ranks; the identity on one process."""
    if not active():
        return values
    total = values.to(_collective_device(values), copy=True)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total.to(values.device)


def any_rank(flag: bool) -> bool:
    """True on every rank when it is true on any rank (e.g. a wall-time limit reached)."""
    return bool(sum_all(torch.tensor([int(flag)], dtype=torch.int64)).item())


def sync_buffers(model: torch.nn.Module) -> None:
    """Give every rank rank 0's buffers (BatchNorm running statistics).

    DDP broadcasts them before each forward pass, so after the last step of an epoch each
    rank holds its own last update; validation and checkpoints need the same on all ranks.
    """
    if not active():
        return
    for buffer in model.buffers():
        dist.broadcast(buffer.data, src=0)


def gather(value: Any) -> list[Any] | None:
    """Every rank's `value`, in rank order, on every rank; None on one process."""
    if not active():
        return None
    values: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def seed_rank(seed: int) -> None:
    """Give ranks other than 0 their own stream of the global generator (dropout), so they do
    not draw the same masks; rank 0 keeps the stream a single process would have."""
    if active() and dist.get_rank() > 0:
        torch.manual_seed(seed * 1_000_003 + dist.get_rank())


def rank_rng(rng: dict[str, Any]) -> torch.Tensor | None:
    """This rank's saved generator state from a checkpoint written by the same number of
    ranks, else None (then seed_rank gives a rank of a resumed run its own stream)."""
    states = rng.get("ranks")
    if active() and states is not None and len(states) == dist.get_world_size():
        return states[dist.get_rank()]
    return None


def quiet_unless_main(*consoles: Any) -> None:
    """Silence the given rich consoles on every rank but 0, so a run prints once."""
    try:
        main = from_environment().main
    except ConfigError:
        return  # train() reports it
    if not main:
        for console in consoles:
            console.quiet = True
