import pytest
import torch

from resnet_core.models import (
    PadShortcut,
    blocks_per_stage,
    build_cifar_net,
    count_parameters,
    deleted_blocks,
    swapped_blocks,
)


@pytest.mark.parametrize("depth, expected_m", [(20, 0.27), (56, 0.85), (110, 1.7)])
def test_parameter_counts_match_he_et_al(depth, expected_m):
    # He et al. (2016) Table 6 counts the CIFAR (3-channel) nets with option A shortcuts.
    n = count_parameters(build_cifar_net(depth, in_channels=3))
    assert abs(n / 1e6 - expected_m) / expected_m < 0.02


def test_output_shapes_for_grey_and_colour():
    for channels, size in ((1, 28), (3, 32)):
        net = build_cifar_net(8, in_channels=channels, num_classes=7)
        assert net(torch.randn(2, channels, size, size)).shape == (2, 7)
        assert net.features(torch.randn(2, channels, size, size)).shape == (2, 64)


def test_depth_must_be_6n_plus_2():
    assert blocks_per_stage(56) == 9
    with pytest.raises(ValueError, match="6n\\+2"):
        build_cifar_net(21)


def test_plain_and_residual_differ_only_in_the_skip_path():
    torch.manual_seed(0)
    res = build_cifar_net(14, residual=True)
    plain = build_cifar_net(14, residual=False)
    # Same parameter names and shapes (option A adds no parameters) ...
    assert {k: v.shape for k, v in res.state_dict().items()} == {k: v.shape for k, v in plain.state_dict().items()}
    plain.load_state_dict(res.state_dict())
    res.eval(), plain.eval()
    x = torch.randn(3, 1, 28, 28)
    # ... so with the same weights the only difference is y = F(x) + x vs y = F(x) in every block.
    block_r, block_p = res.blocks[1], plain.blocks[1]
    h = torch.relu(torch.randn(3, 16, 28, 28))
    with torch.no_grad():
        assert torch.allclose(block_r.act2(block_p.branch(h) + h), block_r(h))
        assert torch.allclose(block_p.act2(block_p.branch(h)), block_p(h))
        assert not torch.allclose(res(x), plain(x))


def test_option_b_adds_projection_parameters_and_option_a_none():
    a = count_parameters(build_cifar_net(20, shortcut="A"))
    b = count_parameters(build_cifar_net(20, shortcut="B"))
    assert b > a
    assert isinstance(build_cifar_net(20).blocks[3].shortcut, PadShortcut)


def test_pad_shortcut_subsamples_and_zero_pads():
    x = torch.randn(2, 16, 8, 8)
    y = PadShortcut(16, 32, 2)(x)
    assert y.shape == (2, 32, 4, 4)
    assert torch.equal(y[:, 8:24], x[:, :, ::2, ::2])
    assert y[:, :8].abs().sum() == 0 and y[:, 24:].abs().sum() == 0


def test_deleting_a_residual_block_makes_it_its_shortcut_and_is_restored():
    net = build_cifar_net(14).eval()
    x = torch.relu(torch.randn(2, 16, 28, 28))
    before = net.blocks[0](x)
    with deleted_blocks(net, [0]):
        assert torch.equal(net.blocks[0](x), x)
    assert torch.equal(net.blocks[0](x), before)


def test_plain_downsampling_blocks_cannot_be_deleted():
    plain = build_cifar_net(14, residual=False)
    flags = [b["removable"] for b in plain.block_info()]
    assert flags == [True, True, False, True, False, True]
    with pytest.raises(ValueError, match="cannot be deleted"):
        with deleted_blocks(plain, [2]):
            pass


def test_swapping_blocks_changes_output_and_restores():
    net = build_cifar_net(20).eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        before = net(x)
        with swapped_blocks(net, [(0, 1)]):
            assert not torch.allclose(net(x), before)
        assert torch.allclose(net(x), before)
    with pytest.raises(ValueError):
        with swapped_blocks(net, [(0, 3)]):
            pass
