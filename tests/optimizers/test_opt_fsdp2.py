"""FSDP2 (`fully_shard`, DTensor parameters) on the multi-tensor path with amsgrad: the running maximum is taken in
place (`clamp_min_`), which DTensor shards; the `_foreach_copy_` it used before has no sharding strategy."""

import socket

import pytest
import torch
import torch.distributed as dist

from labml_nn.optimizers.ada_belief import AdaBelief
from labml_nn.optimizers.amsgrad import AMSGrad


@pytest.fixture
def process_group():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def train(cls, shard: bool):
    from torch.distributed.fsdp import fully_shard

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 2)).double()
    if shard:
        fully_shard(model)
    optimizer = cls(model.parameters(), lr=1e-2, amsgrad=True, foreach=True)
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        model(torch.randn(5, 4, generator=gen, dtype=torch.float64)).square().sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    return [p.full_tensor() if hasattr(p, "full_tensor") else p.detach() for p in model.parameters()]


# Importing torch.distributed's FSDP warns about torch.jit deprecations inside torch itself
@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
@pytest.mark.parametrize("cls", [AMSGrad, AdaBelief])
def test_fsdp2_sharded_amsgrad_on_the_foreach_path_steps_as_unsharded(cls, process_group):
    sharded = train(cls, shard=True)
    plain = train(cls, shard=False)
    assert all(torch.allclose(a, b, rtol=0, atol=1e-12) for a, b in zip(sharded, plain))
