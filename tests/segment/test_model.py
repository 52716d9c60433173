"""The U-Net keeps the input size for any height and width, with every option on."""

import pytest
import torch

from segment.model.unet import UNet, UNetSpec, pad_to_multiple


@pytest.mark.parametrize("size", [(64, 128), (37, 51), (5, 3), (1, 1)])
@pytest.mark.parametrize("options", [{}, dict(residual=True, attention=True, aspp=True, se=False)])
def test_output_shape_matches_input(size, options):
    model = UNet(UNetSpec(in_channels=3, num_classes=4, base_width=4, **options)).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *size))
    assert out.shape == (2, 4, *size)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_depth_sets_padding_multiple(depth):
    model = UNet(UNetSpec(depth=depth, base_width=4, batchnorm=False)).eval()
    assert len(model.encoders) == depth and len(model.decoders) == depth
    with torch.no_grad():
        assert model(torch.randn(1, 1, 19, 23)).shape == (1, 5, 19, 23)


def test_pad_to_multiple():
    assert pad_to_multiple(torch.zeros(1, 1, 37, 64), 8).shape == (1, 1, 40, 64)


def test_channels_last_gives_same_output():
    torch.manual_seed(0)  # test-local weights
    model = UNet(UNetSpec(base_width=4)).eval()
    x = torch.randn(2, 1, 32, 48)
    with torch.no_grad():
        ref = model(x)
        model = model.to(memory_format=torch.channels_last)
        out = model(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
