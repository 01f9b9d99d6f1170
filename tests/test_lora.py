import pytest
import torch
from torch import nn

from onerank import lora


def _mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5))


def test_new_pair_changes_nothing_and_only_lora_trains():
    model = _mlp()
    x = torch.randn(4, 6)
    before = model(x)
    layers = lora.apply(model, ["0", "2"])
    params = lora.add_component(layers, rank=1, seed=0)
    assert torch.equal(model(x), before)                 # B = 0: no effect at the start
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert {id(p) for p in trainable} == {id(p) for p in params} and len(params) == 4
    assert layers["0"].A.shape == (6, 1) and layers["0"].B.shape == (8, 1)


def test_sequential_components_and_merge():
    model = _mlp(1)
    layers = lora.apply(model, ["0", "2"], scaling=0.5)
    x = torch.randn(7, 6)
    for k in range(3):
        lora.add_component(layers, rank=1, seed=k)
        with torch.no_grad():
            for layer in layers.values():
                layer.B.normal_()                        # stand-in for training
        out_before = model(x)
        lora.freeze_component(layers)
        assert torch.allclose(model(x), out_before, atol=1e-6)   # freezing keeps the function
    assert layers["2"].ranks == [1, 1, 1]
    merged = nn.Sequential(layers["0"].merge(), nn.ReLU(), layers["2"].merge())
    assert torch.allclose(merged(x), model(x), atol=1e-5)
    with pytest.raises(RuntimeError, match="no trainable pair"):
        layers["0"].freeze_component()
    lora.add_component(layers)
    with pytest.raises(RuntimeError, match="must be frozen"):
        layers["0"].add_component()


def test_bad_input_is_named():
    model = _mlp()
    with pytest.raises(ValueError, match="no submodule '5'"):
        lora.apply(model, ["5"])
    with pytest.raises(ValueError, match="must be an nn.Linear"):
        lora.apply(model, ["1"])
    with pytest.raises(ValueError, match="rank must be"):
        lora.LoRALinear(nn.Linear(3, 2)).add_component(0)


@pytest.mark.parametrize("rank", [1, 3])
def test_joint_layer_matches_peft(rank):
    """Our rank-r pair and peft's LoRA layer give the same outputs and gradients for the
    same weights (peft: W x + (alpha / r) lora_B(lora_A(x)); ours: A = lora_A^T, B = lora_B)."""
    import peft   # a hard requirement (requirements.txt): this test must not skip
    alpha = 2.0 * rank
    torch.manual_seed(3)
    theirs = _mlp(2).double()
    ours = _mlp(2).double()
    cfg = peft.LoraConfig(r=rank, lora_alpha=alpha, target_modules=["0", "2"], lora_dropout=0.0,
                          init_lora_weights=False)
    theirs = peft.get_peft_model(theirs, cfg)
    layers = lora.apply(ours, ["0", "2"], scaling=alpha / rank)
    lora.add_component(layers, rank=rank)
    for name, layer in layers.items():
        mod = theirs.base_model.model.get_submodule(name)
        with torch.no_grad():
            layer.A.copy_(mod.lora_A["default"].weight.T)
            layer.B.copy_(mod.lora_B["default"].weight)
    x = torch.randn(9, 6, dtype=torch.float64)
    y_t, y_o = theirs(x), ours(x)
    assert torch.allclose(y_t, y_o, rtol=1e-12, atol=1e-12)
    (y_t ** 2).sum().backward()
    (y_o ** 2).sum().backward()
    for name, layer in layers.items():
        mod = theirs.base_model.model.get_submodule(name)
        assert torch.allclose(layer.A.grad, mod.lora_A["default"].weight.grad.T, rtol=1e-10, atol=1e-12)
        assert torch.allclose(layer.B.grad, mod.lora_B["default"].weight.grad, rtol=1e-10, atol=1e-12)
